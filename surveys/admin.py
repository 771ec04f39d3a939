"""Surveys in the admin: read-only, since they are the workers' own answers."""

from __future__ import annotations

from django.contrib import admin

from crowd.admin import ReadOnlyAdmin
from surveys.models import PreChatSurvey, SeekerPostChatSurvey, SupporterPostChatSurvey


@admin.register(PreChatSurvey)
class PreChatSurveyAdmin(ReadOnlyAdmin):
    list_display = (
        "worker",
        "run",
        "problem_type",
        "emotion_type",
        "initial_emotion_intensity",
        "experience_type",
        "submitted_at",
    )
    list_filter = ("run", "problem_type", "emotion_type", "experience_type")
    list_select_related = ("worker", "run")


@admin.register(SeekerPostChatSurvey)
class SeekerPostChatSurveyAdmin(ReadOnlyAdmin):
    list_display = (
        "conversation",
        "ended_naturally",
        "final_emotion_intensity",
        "empathy",
        "relevance",
        "submitted_at",
    )
    list_filter = ("ended_naturally", "conversation__run")
    # The email is personal data: shown on the detail page only, never listed or searched.
    list_select_related = ("conversation",)


@admin.register(SupporterPostChatSurvey)
class SupporterPostChatSurveyAdmin(ReadOnlyAdmin):
    list_display = ("conversation", "seeker_detail", "submitted_at")
    list_filter = ("conversation__run",)
    list_select_related = ("conversation",)
