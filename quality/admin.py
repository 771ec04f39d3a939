"""Admin for quality control. Rule sets are versioned: saving an edit stores a new version."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from quality import models
from quality.rule_sets import save_rule_set_version


@admin.register(models.AutoApprovalRuleSet)
class AutoApprovalRuleSetAdmin(admin.ModelAdmin):
    list_display = ("version", "created_at", "created_by", "note", "min_utterances")
    readonly_fields = ("version", "created_at", "created_by")

    def save_model(
        self, request: HttpRequest, obj: models.AutoApprovalRuleSet, form: Any, change: bool
    ) -> None:
        # Never overwrite a version decisions point at: an edit becomes the next version.
        save_rule_set_version(obj, by=request.user)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = (
        "conversation",
        "outcome",
        "rule_set_version",
        "has_seeker_survey",
        "decided_at",
    )
    list_filter = ("outcome", "rule_set_version", "has_seeker_survey")
    raw_id_fields = ("conversation",)
    readonly_fields = [f.name for f in models.Decision._meta.fields]


@admin.register(models.Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("conversation", "utterance", "kind", "created_at", "resolved_at")
    list_filter = ("kind", "resolved_at")
    raw_id_fields = ("conversation", "utterance")


@admin.register(models.Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("conversation", "verdict", "reviewer", "decided_at")
    list_filter = ("verdict",)
    raw_id_fields = ("conversation",)
    readonly_fields = [f.name for f in models.Review._meta.fields]


@admin.register(models.ReviewClaim)
class ReviewClaimAdmin(admin.ModelAdmin):
    list_display = ("conversation", "reviewer", "claimed_at")
    raw_id_fields = ("conversation",)


@admin.register(models.Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = (
        "conversation",
        "field",
        "original_value",
        "new_value",
        "corrected_by",
        "corrected_at",
    )
    list_filter = ("field",)
    readonly_fields = [f.name for f in models.Correction._meta.fields]


class RelabelInline(admin.TabularInline):
    model = models.Relabel
    extra = 0
    raw_id_fields = ("utterance",)


@admin.register(models.RelabelAssignment)
class RelabelAssignmentAdmin(admin.ModelAdmin):
    list_display = ("conversation", "worker", "assigned_by", "assigned_at", "completed_at")
    raw_id_fields = ("conversation", "worker")
    inlines = [RelabelInline]


@admin.register(models.Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("number", "created_at", "count", "sha256", "path")
    readonly_fields = [f.name for f in models.Release._meta.fields]


@admin.register(models.CalibrationSample)
class CalibrationSampleAdmin(admin.ModelAdmin):
    """Read-only: a sample is drawn on the calibration page, once per run."""

    list_display = ("run", "seed", "size", "created_at", "created_by")
    readonly_fields = [f.name for f in models.CalibrationSample._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(models.CalibrationLabel)
class CalibrationLabelAdmin(admin.ModelAdmin):
    """Read-only: labels are given on the calibration page, one per reviewer and conversation."""

    list_display = ("conversation", "reviewer", "approved", "created_at")
    list_filter = ("approved", "reviewer")
    raw_id_fields = ("conversation",)
    readonly_fields = [f.name for f in models.CalibrationLabel._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
