"""Staff's side of safety flags: the open alerts, and resolving one with a note.

A safety flag holds its conversation back from approval until a reviewer resolves it
(quality.judging, quality.review), and only with a note that says what was done: the record
an ethics board asks for. Deciding a review resolves the other flags, never a safety flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from crowd.models import CollectionRun
from quality.models import Flag
from safety.live import CRISIS_PREFIX, safety_flags

# A note says what was done; a few words at least, and no more than a short report.
NOTE_MIN_CHARS = 10
NOTE_MAX_CHARS = 2000
OPEN_ALERTS_SHOWN = 50


class SafetyError(Exception):
    """A refused resolution; the message says why, in words for the page."""


@dataclass(frozen=True)
class AlertRow:
    """One safety flag as the staff pages list it."""

    flag: int
    conversation: int
    run: str
    label: str
    crisis: bool
    position: int | None
    score: float | None
    text: str
    created_at: datetime
    live: bool
    watch_url: str
    review_url: str
    resolved_at: datetime | None
    resolved_by: str
    note: str


def _rows(flags: QuerySet[Flag]) -> list[AlertRow]:
    labels = dict(Flag.Kind.choices)
    rows = flags.select_related("utterance", "conversation__run", "resolved_by")
    return [
        AlertRow(
            flag=f.pk,
            conversation=f.conversation_id,
            run=f.conversation.run.name,
            label=labels.get(f.kind, f.kind),
            crisis=f.kind.startswith(CRISIS_PREFIX),
            position=f.utterance.position if f.utterance else None,
            score=f.score,
            text=f.utterance.text if f.utterance else "",
            created_at=f.created_at,
            live=f.conversation.state == f.conversation.State.ACTIVE,
            watch_url=reverse("chat:live_detail", args=[f.conversation_id]),
            review_url=reverse("quality:detail", args=[f.conversation_id]),
            resolved_at=f.resolved_at,
            resolved_by=f.resolved_by.get_username() if f.resolved_by else "",
            note=f.resolution_note,
        )
        for f in rows
    ]


def open_alerts(run: CollectionRun | None = None, limit: int = OPEN_ALERTS_SHOWN) -> list[AlertRow]:
    """The open safety flags, newest first (of one run, or of all)."""
    flags = safety_flags().filter(resolved_at__isnull=True)
    if run is not None:
        flags = flags.filter(conversation__run=run)
    return _rows(flags.order_by("-created_at", "-pk")[:limit])


def open_alert_count(run: CollectionRun | None = None) -> int:
    flags = safety_flags().filter(resolved_at__isnull=True)
    if run is not None:
        flags = flags.filter(conversation__run=run)
    return flags.count()


def resolved_alerts(limit: int = OPEN_ALERTS_SHOWN) -> list[AlertRow]:
    """The most recently resolved safety flags, with who resolved them and why."""
    flags = safety_flags().filter(resolved_at__isnull=False)
    return _rows(flags.order_by("-resolved_at", "-pk")[:limit])


def resolve_flag(flag_id: int, user: AbstractBaseUser, note: str) -> Flag:
    """Resolve one open safety flag with a note; a SafetyError when refused (nothing written)."""
    note = note.strip()
    if len(note) < NOTE_MIN_CHARS:
        raise SafetyError(
            f"Write what was done (at least {NOTE_MIN_CHARS} characters): the note is the record."
        )
    if len(note) > NOTE_MAX_CHARS:
        raise SafetyError(f"The note is too long: at most {NOTE_MAX_CHARS} characters.")
    flag = safety_flags().filter(pk=flag_id).first()
    if flag is None:
        raise SafetyError("No such safety flag.")
    now = timezone.now()
    won = Flag.objects.filter(pk=flag_id, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=user, resolution_note=note
    )
    if not won:
        raise SafetyError("This flag was already resolved.")
    flag.refresh_from_db()
    return flag
