"""Reads for the surveys: which conversation a worker's post-chat survey is about."""

from __future__ import annotations

from django.db.models import Q

from chat.models import Conversation
from crowd.models import Worker


def conversation_for_post_survey(worker: Worker) -> Conversation | None:
    """The worker's most recent ended conversation, or None.

    Always found from the session's own worker: no id from the browser is ever trusted, so a
    worker can only reach the survey of a conversation they took part in.
    """
    return (
        Conversation.objects.filter(Q(seeker=worker) | Q(supporter=worker))
        .filter(state=Conversation.State.ENDED)
        .order_by("-ended_at", "-pk")
        .first()
    )
