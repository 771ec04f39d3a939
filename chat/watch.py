"""What staff see as it happens in the live view: the seeker's ratings and the open flags.

The live list and the watched conversation poll these (chat.views.live_feed, live_signals);
a constant number of queries however many conversations are live. Only worker row ids and
conversation content are shown: never a crowd-site id or an email.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.urls import reverse

from chat.models import Conversation, Utterance
from chat.selectors import active_conversations
from quality.models import Flag

# How often the pages ask again, in seconds (static/js/live_signals.js reads it from the page).
POLL_SECONDS = 5


def _ratings(ids: list[int]) -> dict[int, list[int]]:
    """Each conversation's ratings in the order given; the newest may still wait for the
    seeker's next message, which stores it (Conversation.pending_feedback_score)."""
    ratings: dict[int, list[int]] = defaultdict(list)
    stored = (
        Utterance.objects.filter(conversation_id__in=ids, feedback__isnull=False)
        .order_by("conversation_id", "position")
        .values_list("conversation_id", "feedback")
    )
    for conversation_id, score in stored:
        if score is not None:
            ratings[conversation_id].append(score)
    pending = Conversation.objects.filter(
        pk__in=ids, pending_feedback_score__isnull=False
    ).values_list("pk", "pending_feedback_score")
    for conversation_id, score in pending:
        if score is not None:
            ratings[conversation_id].append(score)
    return ratings


def _flags(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    labels = dict(Flag.Kind.choices)
    flags: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        Flag.objects.filter(conversation_id__in=ids, resolved_at__isnull=True)
        .order_by("conversation_id", "pk")
        .values_list("conversation_id", "kind", "detail", "utterance__position")
    )
    for conversation_id, kind, detail, position in rows:
        flags[conversation_id].append(
            {"kind": kind, "label": labels.get(kind, kind), "detail": detail, "message": position}
        )
    return flags


def signals(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Ratings (1-5, oldest first), their mean, and open flags of each conversation."""
    wanted = list(ids)
    ratings, flags = _ratings(wanted), _flags(wanted)
    demo = set(
        Conversation.objects.filter(pk__in=wanted, run__is_demo=True).values_list("pk", flat=True)
    )
    result = {}
    for pk in wanted:
        scores = ratings.get(pk, [])
        result[pk] = {
            "ratings": scores,
            "mean_rating": round(sum(scores) / len(scores), 2) if scores else None,
            "flags": flags.get(pk, []),
            "demo": pk in demo,
        }
    return result


def live_feed() -> dict[str, Any]:
    """Every chat in progress (as the live list shows it) with its ratings and open flags."""
    rows = active_conversations()
    found = signals(row.id for row in rows)
    return {
        "poll_seconds": POLL_SECONDS,
        "conversations": [
            {
                **asdict(row),
                **found[row.id],
                "watch_url": reverse("chat:live_detail", args=[row.id]),
            }
            for row in rows
        ],
    }


def conversation_signals(conversation: Conversation) -> dict[str, Any]:
    """The watched conversation's ratings and open flags, and whether it is still live."""
    return {
        "conversation": conversation.pk,
        "state": conversation.state,
        "poll_seconds": POLL_SECONDS,
        **signals([conversation.pk])[conversation.pk],
    }
