"""Admin: edit the tutorial content; read-only views of quiz attempts; link to the funnel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tutorial.models import QuizAnswer, QuizAttempt, SubTask, TutorialIntro


class SubTaskForm(forms.ModelForm):
    class Meta:
        model = SubTask
        fields = [
            "order",
            "title",
            "definition",
            "example_seeker",
            "example_supporter",
            "question",
            "options",
            "correct_option",
            "explanation",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        options = data.get("options")
        correct = data.get("correct_option")
        if options is not None:
            if (
                not isinstance(options, list)
                or not 3 <= len(options) <= 4
                or not all(isinstance(o, str) and o.strip() for o in options)
            ):
                self.add_error("options", "Give a JSON list of 3 or 4 non-empty texts.")
            elif correct is not None and correct >= len(options):
                self.add_error(
                    "correct_option", f"Must be an option index from 0 to {len(options) - 1}."
                )
        return data


@admin.register(SubTask)
class SubTaskAdmin(admin.ModelAdmin):
    form = SubTaskForm
    change_list_template = "admin/tutorial/subtask/change_list.html"
    list_display = ["order", "title", "kind", "key"]
    list_display_links = ["title"]
    # Keys tie content to the vocabulary: changed only through the YAML file and load_tutorial.
    readonly_fields = ["key", "kind"]
    fieldsets = [
        (None, {"fields": ["order", "key", "kind", "title", "definition"]}),
        ("Example exchange", {"fields": ["example_seeker", "example_supporter"]}),
        ("Quiz question", {"fields": ["question", "options", "correct_option", "explanation"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TutorialIntro)
class TutorialIntroAdmin(admin.ModelAdmin):
    list_display = ["heading", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TutorialIntro.objects.exists()


class QuizAnswerInline(admin.TabularInline):
    model = QuizAnswer
    extra = 0
    can_delete = False
    readonly_fields = ["subtask", "option", "is_correct", "answered_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ["worker", "number", "started_at", "submitted_at", "wrong_count", "passed"]
    list_filter = ["passed", "worker__run"]
    list_select_related = ["worker"]
    readonly_fields = ["worker", "number", "started_at", "submitted_at", "wrong_count", "passed"]
    inlines = [QuizAnswerInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
