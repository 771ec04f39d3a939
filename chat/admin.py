"""Admin: conversations and their utterances, read-only (the chat writes them).

A conversation can hold thousands of utterances, so its page shows them a page at a time
(`UTTERANCES_PER_PAGE`, `?utterances_page=N`) instead of as an inline form of every one; the
Utterance list, filtered to the conversation, pages through them too. Nothing here edits the
record: strategy labels and the initial intensity are corrected on the reviewers' page
(quality/corrections.py keeps the original, who changed it and why).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from chat.models import Conversation, Utterance

UTTERANCES_PER_PAGE = 100


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look, not add or edit: the chat and the audited corrections write these."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    change_form_template = "admin/chat/conversation/change_form.html"
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
    list_select_related = ("run",)
    raw_id_fields = ("seeker", "supporter")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {**(extra_context or {}), **self._utterance_page(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _utterance_page(self, request: HttpRequest, object_id: str) -> dict[str, Any]:
        if not str(object_id).isdigit():
            return {}
        utterances = Utterance.objects.filter(conversation_id=int(object_id)).order_by("position")
        paginator = Paginator(
            utterances.only("position", "speaker", "text", "strategy", "feedback", "sent_at"),
            UTTERANCES_PER_PAGE,
        )
        page = paginator.get_page(request.GET.get("utterances_page"))
        list_url = reverse("admin:chat_utterance_changelist")
        return {
            "utterance_page": page,
            "utterance_list_url": f"{list_url}?conversation__id__exact={int(object_id)}",
            "corrections_url": reverse("quality:detail", args=[int(object_id)]),
        }


@admin.register(Utterance)
class UtteranceAdmin(ReadOnlyAdmin):
    list_display = ("conversation", "position", "speaker", "strategy", "feedback", "text")
    list_filter = ("speaker", "strategy")
    list_select_related = ("conversation",)
    list_per_page = UTTERANCES_PER_PAGE
    search_fields = ("=conversation__id",)
    ordering = ("conversation_id", "position")
    # A conversation's utterances are reached from its page; counting every row of a large
    # table for the "all" link would be slow.
    show_full_result_count = False
    raw_id_fields = ("conversation",)
