"""Admin: conversations with their utterances (read-mostly; the chat writes them)."""

from __future__ import annotations

from django.contrib import admin

from chat.models import Conversation, Utterance


class UtteranceInline(admin.TabularInline):
    model = Utterance
    extra = 0
    fields = ("position", "speaker", "text", "strategy", "feedback", "sent_at")
    readonly_fields = ("position", "speaker", "sent_at")
    ordering = ("position",)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "run",
        "state",
        "problem_type",
        "emotion_type",
        "last_seq",
        "end_reason",
        "quality_status",
        "started_at",
    )
    list_filter = ("run", "state", "end_reason", "quality_status", "source_format")
    search_fields = ("=id", "situation")
    readonly_fields = (
        "seeker",
        "supporter",
        "started_at",
        "ended_at",
        "ended_by",
        "end_reason",
        *Conversation.LIVE_FIELDS,
        "source_fingerprint",
        "source_format",
    )
    inlines = [UtteranceInline]
