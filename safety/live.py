"""Safety in a live chat: screen each stored message right after its acknowledgement.

The message path itself holds no analysis (docs/protocol.md, "The message path"): the consumer
acknowledges and relays a message first, then hands it here in a worker thread. A hit becomes
a flag in its own transaction, then one event for the conversation's sockets (the seeker is
shown help, the supporter guidance or a warning, a watching staff member the alert) and one
for every open staff page (chat.safety_alerts). Staff are also told outside the platform
(safety.alerts), from a thread of its own so that a slow mail server holds up no chat.

A message whose screening was lost (the process died between its acknowledgement and its
screening) is screened again by the quality job before anything is judged (screen_stored):
no conversation is ever approved without every message screened.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import connections, transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.urls import reverse

from chat.models import Conversation, Utterance
from quality.models import CONDUCT_PREFIX, CRISIS_PREFIX, Flag, safety_kinds
from safety.categories import SEEKER_CATEGORIES, SPEAKERS
from safety.detection import Hit, detect, detect_many

logger = logging.getLogger(__name__)

# The staff-wide channel group every open staff page listens on (chat.consumers).
ALERTS_GROUP = "safety.alerts"

# One thread sends every alert that leaves the platform, in order.
_alert_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safety-alerts")


def flag_kind(category: str) -> str:
    """The Flag.Kind of a detector category: what it is about, then the category."""
    prefix = CRISIS_PREFIX if category in SEEKER_CATEGORIES else CONDUCT_PREFIX
    return prefix + category


def safety_flags() -> QuerySet[Flag]:
    """Every safety flag, resolved or not."""
    return Flag.objects.filter(kind__in=safety_kinds())


@dataclass(frozen=True)
class Screening:
    """What one message's screening raised: the new flags, and the events to send for them."""

    flag_ids: list[int]
    event: dict[str, Any]
    alerts: list[dict[str, Any]]


def _detail(hit: Hit) -> str:
    if hit.phrase:
        return f"{hit.reason}: “{hit.phrase}”"
    return hit.reason


def _record(
    utterance_ids: dict[int, int], conversation_id: int, hits: dict[int, list[Hit]]
) -> list[Flag]:
    """Store the hits not already flagged (position → hits), in one transaction."""
    wanted = [
        Flag(
            conversation_id=conversation_id,
            utterance_id=utterance_ids[position],
            kind=flag_kind(hit.category),
            score=hit.score,
            detail=_detail(hit),
        )
        for position, found in hits.items()
        for hit in found
        if position in utterance_ids
    ]
    if not wanted:
        return []
    with transaction.atomic():
        have = set(
            Flag.objects.filter(
                utterance_id__in=[f.utterance_id for f in wanted], kind__in={f.kind for f in wanted}
            ).values_list("utterance_id", "kind")
        )
        new = [f for f in wanted if (f.utterance_id, f.kind) not in have]
        # The unique constraint settles a race with the backstop: the loser's row is dropped.
        Flag.objects.bulk_create(new, ignore_conflicts=True)
    stored = Flag.objects.filter(
        utterance_id__in=[f.utterance_id for f in new], kind__in={f.kind for f in new}
    )
    return [f for f in stored.select_related("utterance") if (f.utterance_id, f.kind) not in have]


def _alert(flag: Flag, run_name: str) -> dict[str, Any]:
    labels = dict(Flag.Kind.choices)
    return {
        "flag": flag.pk,
        "conversation": flag.conversation_id,
        "run": run_name,
        "kind": flag.kind,
        "label": labels.get(flag.kind, flag.kind),
        "crisis": flag.kind.startswith(CRISIS_PREFIX),
        "position": flag.utterance.position if flag.utterance else None,
        "score": flag.score,
        "created_at": flag.created_at.isoformat(),
        "watch_url": reverse("chat:live_detail", args=[flag.conversation_id]),
    }


def safety_event(position: int, speaker: str, flags: list[dict[str, Any]]) -> dict[str, Any]:
    """The conversation group's event for new flags on one message (chat.delivery)."""
    return {
        "kind": "safety",
        "position": position,
        "speaker": speaker,
        "crisis": any(f["crisis"] for f in flags),
        "conduct": any(not f["crisis"] for f in flags),
        "flags": flags,
    }


@dataclass(frozen=True)
class StoredMessage:
    """A stored message to screen: where it is and what it says."""

    conversation_id: int
    position: int
    speaker: str
    text: str


def screen_message(
    conversation_id: int, position: int, speaker: str, text: str
) -> Screening | None:
    """Screen one stored message; its new flags and what to tell about them, or None."""
    screened = screen_messages([StoredMessage(conversation_id, position, speaker, text)])
    return screened[0][1] if screened else None


def screen_messages(messages: list[StoredMessage]) -> list[tuple[int, Screening]]:
    """Screen stored messages together: (conversation, screening) for each that raised a flag.

    Runs in a worker thread after the messages were acknowledged (chat.screening batches what
    arrives together). Every conversation's count of screened messages moves in one UPDATE;
    the flags are committed before this returns, and staff alerts leave after that.
    """
    mine = [m for m in messages if m.speaker in SPEAKERS]
    found = [detect(m.text, m.speaker) for m in mine]
    _count_screened(Counter(m.conversation_id for m in mine))
    screened = []
    for message, hits in zip(mine, found, strict=True):
        screening = _flag(message, hits) if hits else None
        if screening is not None:
            screened.append((message.conversation_id, screening))
    return screened


def _count_screened(counts: Counter[int]) -> None:
    if not counts:
        return
    added = Case(*(When(pk=pk, then=Value(n)) for pk, n in counts.items()), default=Value(0))
    Conversation.objects.filter(pk__in=list(counts)).update(
        safety_screened=F("safety_screened") + added
    )


def _flag(message: StoredMessage, hits: list[Hit]) -> Screening | None:
    row = (
        Utterance.objects.filter(conversation_id=message.conversation_id, position=message.position)
        .values_list("pk", "conversation__run__name")
        .first()
    )
    if row is None:
        return None
    utterance_id, run_name = row
    position = message.position
    flags = _record({position: utterance_id}, message.conversation_id, {position: hits})
    if not flags:
        return None
    alerts = [_alert(flag, run_name) for flag in flags]
    send_alerts(flag.pk for flag in flags)
    event = safety_event(position, message.speaker, alerts)
    return Screening([f.pk for f in flags], event, alerts)


def send_alerts(flag_ids: Iterable[int]) -> None:
    """Tell staff outside the platform (mail, webhook), from the alert thread, once the flags
    are committed (the thread reads them on its own connection)."""
    for flag_id in list(flag_ids):
        transaction.on_commit(partial(_alert_sender.submit, _send_alert, flag_id))


def _send_alert(flag_id: int) -> None:
    # Imported here: safety.alerts reads settings and the mail backend, which the chat's
    # screening needs only once there is something to send.
    from safety import alerts

    try:
        alerts.alert_staff(flag_id)
    except Exception:
        logger.exception("could not send the safety alert of flag %s", flag_id)
    finally:
        # This thread's own database connection: none is left open between alerts.
        connections.close_all()


def unscreened(conversation_ids: list[int]) -> list[int]:
    """Of these conversations, the live ones with a message the live screening did not read."""
    return list(
        Conversation.objects.filter(
            pk__in=conversation_ids, source_format="", safety_screened__lt=F("last_seq")
        ).values_list("pk", flat=True)
    )


def screen_stored(conversation_ids: list[int]) -> int:
    """Screen every message of these conversations again; flag what no flag covers yet.

    The quality job's backstop (quality.judging): a message acknowledged just before its
    process died was never screened live. Returns how many flags were added; their alerts
    leave once the caller's transaction commits.
    """
    rows = list(
        Utterance.objects.filter(conversation_id__in=conversation_ids).values_list(
            "pk", "conversation_id", "position", "speaker", "text"
        )
    )
    pks = {(row[1], row[2]): row[0] for row in rows}
    flags: list[Flag] = []
    for speaker in SPEAKERS:
        mine = [row for row in rows if row[3] == speaker]
        found = detect_many([row[4] for row in mine], speaker)
        by_conversation: dict[int, dict[int, list[Hit]]] = {}
        for (_, conversation_id, position, _, _), raised in zip(mine, found, strict=True):
            if raised:
                by_conversation.setdefault(conversation_id, {})[position] = raised
        for conversation_id, at in by_conversation.items():
            ids = {position: pks[conversation_id, position] for position in at}
            flags += _record(ids, conversation_id, at)
    send_alerts(flag.pk for flag in flags)
    Conversation.objects.filter(pk__in=conversation_ids).update(safety_screened=F("last_seq"))
    return len(flags)


def open_safety(conversation: Conversation) -> dict[str, bool]:
    """Whether the conversation has an open crisis flag and an open conduct flag."""
    kinds = set(
        safety_flags()
        .filter(conversation=conversation, resolved_at__isnull=True)
        .values_list("kind", flat=True)
    )
    return {
        "crisis": any(k.startswith(CRISIS_PREFIX) for k in kinds),
        "conduct": any(k.startswith(CONDUCT_PREFIX) for k in kinds),
    }
