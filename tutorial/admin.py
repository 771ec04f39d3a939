"""Admin: edit the tutorial content and item banks; read-only quiz attempts; the funnel link."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tutorial import content
from tutorial.models import AttemptItem, QuizAnswer, QuizAttempt, QuizItem, SubTask, TutorialIntro


class QuizItemForm(forms.ModelForm):
    """One item of a bank, held to the content file's rules (tutorial/content.py)."""

    class Meta:
        model = QuizItem
        fields = [
            "key",
            "position",
            "is_active",
            "question",
            "options",
            "correct_option",
            "explanation",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # load_tutorial updates items by key: a saved item keeps its key.
            self.fields["key"].disabled = True

    def _others(self) -> list[tuple[str, list[str], str]]:
        """(key, options, explanation) of every other item."""
        others = QuizItem.objects.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        return [
            (key, [str(o) for o in options] if isinstance(options, list) else [], explanation)
            for key, options, explanation in others.values_list("key", "options", "explanation")
        ]

    def clean_options(self) -> Any:
        options = self.cleaned_data.get("options")
        problem = content.options_problem(options)
        if problem or not isinstance(options, list):
            raise forms.ValidationError(
                f"Give a JSON list of {content.OPTIONS_PER_ITEM} different, non-empty texts "
                f"(this one {problem})."
            )
        options = [option.strip() for option in options]
        for key, their_options, explanation in self._others():
            taken = {content.normal_form(o) for o in their_options}
            for option in options:
                if content.normal_form(option) in taken:
                    raise forms.ValidationError(
                        f"{option!r} is already an option of item {key!r}; "
                        "every option text may appear in one item only."
                    )
            if content.quoted_option(explanation, {o: key for o in options}):
                raise forms.ValidationError(
                    f"The explanation of item {key!r} quotes one of these options; "
                    "word the option differently."
                )
        return options

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        options, correct = data.get("options"), data.get("correct_option")
        if options is None or correct is None:
            return data
        if correct >= len(options):
            self.add_error(
                "correct_option", f"Must be an option index from 0 to {len(options) - 1}."
            )
        elif data.get("explanation"):
            self._check_explanation(data["explanation"], options, correct)
        return data

    def _check_explanation(self, explanation: str, options: list[str], correct: int) -> None:
        problem = content.explanation_problem(explanation, options[correct])
        if problem:
            self.add_error("explanation", f"The explanation {problem}.")
            return
        texts = {o: "this item" for o in options}
        for key, their_options, _ in self._others():
            texts.update({o: f"item {key!r}" for o in their_options})
        quoted = content.quoted_option(explanation, texts)
        if quoted is not None:
            self.add_error(
                "explanation",
                f"The explanation quotes {quoted[1]!r}, an option of {quoted[0]}; "
                "explain the concept in other words.",
            )


class QuizItemFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        active = sum(
            1
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("is_active")
            and not form.cleaned_data.get("DELETE")
        )
        if active < content.MIN_ITEMS_PER_BANK:
            raise forms.ValidationError(
                f"Keep at least {content.MIN_ITEMS_PER_BANK} active items in the bank, so every "
                "attempt can draw a question the worker has not seen."
            )


class QuizItemInline(admin.StackedInline):
    model = QuizItem
    form = QuizItemForm
    formset = QuizItemFormSet
    extra = 0
    # Answers point at items: retire an item (untick "active") instead of deleting it.
    can_delete = False


@admin.register(SubTask)
class SubTaskAdmin(admin.ModelAdmin):
    change_list_template = "admin/tutorial/subtask/change_list.html"
    list_display = ["order", "title", "kind", "key"]
    list_display_links = ["title"]
    fields = ["order", "key", "kind", "title", "definition", "example_seeker", "example_supporter"]
    # Keys tie content to the vocabulary: changed only through the YAML file and load_tutorial.
    readonly_fields = ["key", "kind"]
    inlines = [QuizItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TutorialIntro)
class TutorialIntroAdmin(admin.ModelAdmin):
    list_display = ["heading", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TutorialIntro.objects.exists()


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttemptItemInline(_ReadOnlyInline):
    model = AttemptItem
    fields = ("subtask", "item", "option_order")
    readonly_fields = fields


class QuizAnswerInline(_ReadOnlyInline):
    model = QuizAnswer
    fields = ("subtask", "item", "option", "is_correct", "answered_at")
    readonly_fields = fields


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ["worker", "number", "started_at", "submitted_at", "wrong_count", "passed"]
    list_filter = ["passed", "worker__run"]
    list_select_related = ["worker"]
    readonly_fields = ["worker", "number", "started_at", "submitted_at", "wrong_count", "passed"]
    inlines = [AttemptItemInline, QuizAnswerInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
