"""What the protocol allows in a conversation right now: roles, turns, time and silence.

Pure reads of one conversation row (no queries), so the message path and the pages ask the
same questions the same way. The chat protocol is described in docs/protocol.md.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from chat.models import Conversation
from crowd import vocabulary


def other_role(role: str) -> str:
    return vocabulary.SUPPORTER if role == vocabulary.SEEKER else vocabulary.SEEKER


def role_in(conversation: Conversation, worker_id: int | None) -> str | None:
    """The worker's role in this conversation, or None for an outsider."""
    if worker_id is None:
        return None
    if conversation.seeker_id == worker_id:
        return vocabulary.SEEKER
    if conversation.supporter_id == worker_id:
        return vocabulary.SUPPORTER
    return None


def elapsed_seconds(conversation: Conversation, now: datetime | None = None) -> int:
    if conversation.started_at is None:
        return 0
    end = conversation.ended_at or now or timezone.now()
    return max(0, int((end - conversation.started_at).total_seconds()))


def last_message_at(conversation: Conversation, role: str) -> datetime | None:
    if role == vocabulary.SEEKER:
        return conversation.seeker_last_message_at
    return conversation.supporter_last_message_at


def can_end(conversation: Conversation, role: str, now: datetime) -> bool:
    """The seeker may end the chat after the run's minimum turns and minimum time."""
    run = conversation.run
    return (
        conversation.is_active
        and role == vocabulary.SEEKER
        and conversation.turns >= run.min_turns_to_end
        and elapsed_seconds(conversation, now) >= run.min_seconds_to_end
    )


def can_report_unresponsive(conversation: Conversation, role: str, now: datetime) -> bool:
    """Either side may end the chat once the partner has been silent for the run's limit."""
    if not conversation.is_active or role not in (vocabulary.SEEKER, vocabulary.SUPPORTER):
        return False
    # A partner who never wrote has been silent since the chat started.
    last = last_message_at(conversation, other_role(role)) or conversation.started_at
    if last is None:
        return False
    return (now - last).total_seconds() >= conversation.run.partner_silence_seconds


def last_activity_at(conversation: Conversation) -> datetime | None:
    """When anything last happened in the chat: its start or either side's last message."""
    moments = [
        t
        for t in (
            conversation.started_at,
            conversation.seeker_last_message_at,
            conversation.supporter_last_message_at,
        )
        if t is not None
    ]
    return max(moments) if moments else None
