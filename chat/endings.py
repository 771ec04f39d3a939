"""How a chat ends, and what each ending means for both workers.

The whole chain is a table in docs/quality.md ("Endings: outcome, status code, quality").

ENDINGS is the one table from a conversation's end reason to each worker's task outcome; the
status code and pay of an outcome come from crowd.services, and the quality filter keeps only
the end reasons its rule set counts as finished (by default `finished`). Every ending, asked
for by a worker or swept by the periodic job, goes through `close`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from chat import events, frames, rules
from chat.errors import ChatError
from chat.models import Conversation
from chat.sessions import lock_active
from chat.signals import model_chat_ended
from crowd import vocabulary
from crowd.models import Worker
from crowd.services import TaskOutcome, finish_worker

EndReason = Conversation.EndReason


@dataclass(frozen=True)
class Ending:
    """Each worker's outcome of one end reason; `*_survey`: they go to the post-chat survey."""

    ender: TaskOutcome
    ender_survey: bool
    partner: TaskOutcome
    partner_survey: bool


ENDINGS: dict[str, Ending] = {
    # The seeker ended it after the minimum turns and time: both finished (03).
    EndReason.FINISHED: Ending(TaskOutcome.FINISHED, True, TaskOutcome.FINISHED, True),
    # A worker left early (01); the partner was left alone, not their fault (02).
    EndReason.SEEKER_LEFT: Ending(TaskOutcome.LEFT_EARLY, False, TaskOutcome.PARTNER_LEFT, True),
    EndReason.SUPPORTER_LEFT: Ending(TaskOutcome.LEFT_EARLY, False, TaskOutcome.PARTNER_LEFT, True),
    # The reporter's partner went silent: the reporter 02, the silent partner 01.
    EndReason.PARTNER_UNRESPONSIVE: Ending(
        TaskOutcome.PARTNER_UNRESPONSIVE, True, TaskOutcome.LEFT_EARLY, False
    ),
    # Neither side wrote for the run's abandon limit: both left without ending it (01).
    EndReason.ABANDONED: Ending(TaskOutcome.LEFT_EARLY, False, TaskOutcome.LEFT_EARLY, False),
    # Staff ended it, for the seeker's safety: neither chose to stop, both are finished (03).
    EndReason.STAFF_ENDED: Ending(TaskOutcome.FINISHED, True, TaskOutcome.FINISHED, True),
    # Chats with a model (no supporter worker): evaluation.flow decides what the seeker gets;
    # these rows say what the ending means, as the table in docs/quality.md does.
    EndReason.EVALUATED: Ending(TaskOutcome.FINISHED, True, TaskOutcome.FINISHED, True),
    EndReason.BACKEND_FAILED: Ending(
        TaskOutcome.PARTNER_UNRESPONSIVE, False, TaskOutcome.PARTNER_UNRESPONSIVE, False
    ),
}

# The `reason` of an end frame → the conversation's end reason ({role}: who sent the frame).
REQUESTABLE = {
    "finished": EndReason.FINISHED,
    "leave": "{role}_left",
    "partner_unresponsive": EndReason.PARTNER_UNRESPONSIVE,
}


def close(
    conversation: Conversation,
    end_reason: str,
    by: str,
    now: datetime,
    *,
    outbox: list[dict[str, Any]] | None = None,
) -> bool:
    """Claim an active conversation as ended, finish both workers, tell every open page.

    A conditional UPDATE from `active`: of two concurrent endings exactly one claims it.
    Call inside a transaction; the ended event leaves after commit (into `outbox` if given).
    A chat with a model as the supporter is handed to the `model_chat_ended` signal.
    """
    claimed = Conversation.objects.filter(
        pk=conversation.pk, state=Conversation.State.ACTIVE
    ).update(state=Conversation.State.ENDED, ended_at=now, ended_by=by, end_reason=end_reason)
    if not claimed:
        return False
    conversation.refresh_from_db()
    if conversation.supporter_id is None:
        model_chat_ended.send(Conversation, conversation=conversation, end_reason=end_reason)
    else:
        _finish_both(conversation, ENDINGS[end_reason], by)
    events.send_after_commit(conversation.pk, frames.ended_event(conversation), outbox)
    return True


def _finish_both(conversation: Conversation, ending: Ending, by: str) -> None:
    workers = Worker.objects.select_related("run").in_bulk(
        [conversation.seeker_id, conversation.supporter_id]
    )
    seeker, supporter = workers[conversation.seeker_id], workers[conversation.supporter_id]
    ender, partner = (supporter, seeker) if by == vocabulary.SUPPORTER else (seeker, supporter)
    finish_worker(ender, ending.ender, post_survey=ending.ender_survey)
    finish_worker(partner, ending.partner, post_survey=ending.partner_survey)


def _check_allowed(conversation: Conversation, reason: str, role: str, now: datetime) -> None:
    if reason == "finished" and not rules.can_end(conversation, role, now):
        raise ChatError(
            "end_not_allowed",
            "The seeker can end the conversation after the minimum turns and time.",
        )
    if reason == "partner_unresponsive" and not rules.can_report_unresponsive(
        conversation, role, now
    ):
        raise ChatError("end_not_allowed", "Your partner wrote recently; please wait a little.")


def end_conversation(conversation_id: int, worker_id: int, *, reason: Any) -> dict[str, Any]:
    """End a chat the one way the rules allow, record both outcomes, tell both sides.

    finished: the seeker, after min turns and min time; both 03 → post-chat survey.
    leave: anyone, any time; leaver 01 → status page, partner 02 → post-chat survey.
    partner_unresponsive: after the partner's silence; reporter 02 → survey, partner 01.
    Returns the caller's own `ended` frame.
    """
    if not isinstance(reason, str) or reason not in REQUESTABLE:
        raise ChatError(
            "unknown_reason", "The end reason must be finished, partner_unresponsive or leave."
        )
    with transaction.atomic():
        conversation, role = lock_active(conversation_id, worker_id)
        now = timezone.now()
        _check_allowed(conversation, reason, role, now)
        if not close(conversation, REQUESTABLE[reason].format(role=role), role, now):
            raise ChatError("ended", "This conversation has ended.")
    return frames.ended_frame(conversation, role)


def _abandoned(conversation: Conversation, now: datetime) -> bool:
    last = rules.last_activity_at(conversation)
    limit = timedelta(seconds=conversation.run.abandon_after_seconds)
    return last is not None and last <= now - limit


def end_abandoned_conversations() -> int:
    """Periodic sweep: end chats where neither side has written for the run's abandon limit.

    Both workers left without ending the chat, so both get 01 (left early) and their status
    page; the conversation's end reason says what happened. Safe to run twice.
    """
    now = timezone.now()
    ended = 0
    # A chat with a model has no supporter worker; imports have neither and are never active.
    active = Conversation.objects.filter(
        state=Conversation.State.ACTIVE, seeker__isnull=False
    ).select_related("run")
    for conversation in active:
        if not _abandoned(conversation, now):
            continue
        with transaction.atomic():
            ended += close(conversation, EndReason.ABANDONED, "", now)
    return ended
