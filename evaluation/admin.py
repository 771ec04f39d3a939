"""Admin of supporter backends and evaluations (docs/evaluation.md, "Setting up")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models

from evaluation.models import (
    Comparison,
    Evaluation,
    EvaluationLeg,
    EvaluationSession,
    SupporterBackend,
)


def _https_by_default(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """A model server's address typed without a scheme is taken as https://."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class SupporterBackendForm(forms.ModelForm):
    class Meta:
        model = SupporterBackend
        formfield_callback = _https_by_default
        fields = ["name", "kind", "url", "timeout_seconds", "mode", "source_run", "seed"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == SupporterBackend.Kind.HTTP and not data.get("url"):
            self.add_error("url", "An HTTP backend needs the address of its model server.")
        return data


@admin.register(SupporterBackend)
class SupporterBackendAdmin(admin.ModelAdmin):
    form = SupporterBackendForm
    list_display = ("name", "kind", "mode", "url", "source_run")


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = Evaluation
        fields = [
            "run",
            "backend_a",
            "backend_b",
            "turns",
            "typing_chars_per_second",
            "max_reply_seconds",
            "attempts",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        a, b = data.get("backend_a"), data.get("backend_b")
        if a is not None and a == b:
            self.add_error("backend_b", "Compare two different backends.")
        for field in ("backend_a", "backend_b"):
            backend = data.get(field)
            # Nobody knows the right strategy of a live chat's next message.
            if (
                backend is not None
                and backend.kind == SupporterBackend.Kind.RETRIEVAL
                and backend.mode == SupporterBackend.Mode.ORACLE
            ):
                self.add_error(field, "An Oracle backend needs the true strategy: offline only.")
        return data


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    form = EvaluationForm
    list_display = ("run", "backend_a", "backend_b", "turns")


class EvaluationLegInline(admin.TabularInline):
    model = EvaluationLeg
    extra = 0
    can_delete = False
    readonly_fields = ("conversation", "backend", "slot", "order", "replies", "failures")


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(admin.ModelAdmin):
    list_display = ("pk", "evaluation", "first", "created_at", "completed_at")
    readonly_fields = ("evaluation", "worker", "first", "created_at", "completed_at")
    inlines = [EvaluationLegInline]


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ("session", "fluency", "identification", "comforting", "suggestion", "overall")
