"""The model's side of a live chat: after a seeker's message, a reply with a human pace.

The consumer hands every stored seeker message of a chat with a model to `reply_later`,
after its acknowledgement. The reply waits a moment for the seeker to finish (a newer seeker
message replaces it: the model answers everything at once, as a person would), shows the
seeker that the supporter is typing, asks the backend in a worker thread, waits the rest of
a typing pause, and is stored through the message path every human message takes
(chat.messages.do_post_message), so relay, replay, feedback prompts and safety screening
treat it like any other. A failing backend gets a polite "one moment" and more tries; after
the evaluation's `attempts` the chat ends as `backend_failed` (the seeker is paid 02).

Each reply is stored under the client id `model-<seq>`, the seeker message it answers: two
processes answering the same message store it once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chat import endings, events, frames, screening
from chat.delivery import bounded, in_background, in_thread, relay_with_retries
from chat.errors import INFRASTRUCTURE_ERRORS
from chat.messages import do_post_message
from chat.models import Conversation
from crowd import vocabulary
from evaluation.backends import BackendError, Reply, backend_for, request_for_conversation
from evaluation.models import EvaluationLeg, SupporterBackend

logger = logging.getLogger(__name__)

# A reader's pause before the typing starts, and the waits between failed tries.
READ_SECONDS = 1.0
RETRY_SECONDS = (0.5, 1.5, 3.0)
DELAYED_MESSAGE = "Your supporter needs a moment longer to reply. Please wait."


@dataclass(frozen=True)
class Plan:
    """What one reply needs to know, read once from the leg and its evaluation."""

    backend_id: int
    chars_per_second: float
    max_seconds: float
    attempts: int
    turns: int


def is_model_chat(conversation_id: int) -> bool:
    return EvaluationLeg.objects.filter(conversation_id=conversation_id).exists()


def reply_later(conversation_id: int, committed: list[dict[str, Any]]) -> None:
    """Answer the newest stored seeker message of `committed` (message events), later."""
    seqs = [
        int(event["message"]["seq"])
        for event in committed
        if event.get("kind") == "message" and event["message"]["speaker"] == vocabulary.SEEKER
    ]
    if seqs:
        in_background(_reply(conversation_id, max(seqs)))


def _plan(conversation_id: int, after_seq: int) -> Plan | None:
    """The reply's plan, or None when the chat is over or a newer message came."""
    leg = (
        EvaluationLeg.objects.select_related("session__evaluation", "conversation")
        .filter(conversation_id=conversation_id)
        .first()
    )
    if leg is None or not _current(leg.conversation, after_seq):
        return None
    evaluation = leg.session.evaluation
    return Plan(
        backend_id=leg.backend_id,
        chars_per_second=evaluation.typing_chars_per_second,
        max_seconds=evaluation.max_reply_seconds,
        attempts=evaluation.attempts,
        turns=evaluation.turns,
    )


def _current(conversation: Conversation, after_seq: int) -> bool:
    return conversation.state == Conversation.State.ACTIVE and conversation.last_seq == after_seq


def _still_current(conversation_id: int, after_seq: int) -> bool:
    conversation = Conversation.objects.only("state", "last_seq").get(pk=conversation_id)
    return _current(conversation, after_seq)


def _ask(backend_id: int, conversation_id: int) -> Reply:
    config = SupporterBackend.objects.get(pk=backend_id)
    return backend_for(config).reply(request_for_conversation(conversation_id))


def _count_failure(conversation_id: int) -> None:
    EvaluationLeg.objects.filter(conversation_id=conversation_id).update(failures=F("failures") + 1)


async def _reply(conversation_id: int, after_seq: int) -> None:
    try:
        await _reply_with_tries(conversation_id, after_seq)
    except INFRASTRUCTURE_ERRORS:
        logger.warning("a model reply in conversation %s was lost", conversation_id, exc_info=True)
    except Exception:
        logger.exception("a model reply in conversation %s failed", conversation_id)


async def _reply_with_tries(conversation_id: int, after_seq: int) -> None:
    plan = await in_thread(_plan)(conversation_id, after_seq)
    if plan is None:
        return
    await asyncio.sleep(min(READ_SECONDS, plan.max_seconds))
    for attempt in range(plan.attempts):
        if not await in_thread(_still_current)(conversation_id, after_seq):
            return
        await _tell(conversation_id, frames.typing_event(vocabulary.SUPPORTER))
        started = time.monotonic()
        try:
            reply = await in_thread(_ask)(plan.backend_id, conversation_id)
        except BackendError as exc:
            logger.warning("backend failed in conversation %s: %s", conversation_id, exc.code)
            await in_thread(_count_failure)(conversation_id)
            if attempt == 0:
                await _tell(conversation_id, _delayed_notice())
            if attempt + 1 < plan.attempts:
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            continue
        pause = min(plan.max_seconds, len(reply.text) / plan.chars_per_second)
        await asyncio.sleep(max(0.0, pause - (time.monotonic() - started)))
        committed = await in_thread(_store)(conversation_id, after_seq, reply, plan.turns)
        # The reply first, then (after its last one) the end: the outbox keeps their order.
        await relay_with_retries(conversation_id, committed)
        screening.screen_later(conversation_id, committed)
        return
    await in_thread(_give_up)(conversation_id, after_seq)


def _delayed_notice() -> dict[str, Any]:
    return {
        "kind": "notice",
        "roles": [vocabulary.SEEKER],
        "frame": {"type": "warning", "code": "supporter_delayed", "message": DELAYED_MESSAGE},
    }


async def _tell(conversation_id: int, event: dict[str, Any]) -> None:
    """An event nobody stores (typing, a notice): a failure costs only that event."""
    try:
        await bounded(events.relay(conversation_id, [event]))
    except INFRASTRUCTURE_ERRORS:
        logger.warning("could not relay a %s event", event.get("kind"), exc_info=True)


def _locked(conversation_id: int, after_seq: int) -> Conversation | None:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    return conversation if _current(conversation, after_seq) else None


def _store(conversation_id: int, after_seq: int, reply: Reply, turns: int) -> list[dict[str, Any]]:
    """Store the reply as the supporter's message; end the chat after its last one.

    Returns the committed events to relay, in order (none when nothing was stored).
    """
    outbox: list[dict[str, Any]] = []
    with transaction.atomic():
        conversation = _locked(conversation_id, after_seq)
        if conversation is None:
            return []  # the seeker wrote again meanwhile: that message gets the reply
        result = do_post_message(
            conversation,
            vocabulary.SUPPORTER,
            client_id=f"model-{after_seq}",
            text=reply.text,
            strategy=reply.strategy,
            outbox=outbox,
        )
        if result.duplicate:
            return []
        EvaluationLeg.objects.filter(conversation_id=conversation_id).update(
            replies=F("replies") + 1
        )
        leg = EvaluationLeg.objects.only("replies").get(conversation_id=conversation_id)
        if leg.replies >= turns:
            endings.close(
                conversation, Conversation.EndReason.EVALUATED, "", timezone.now(), outbox=outbox
            )
    return outbox


def _give_up(conversation_id: int, after_seq: int) -> None:
    with transaction.atomic():
        conversation = _locked(conversation_id, after_seq)
        if conversation is not None:
            endings.close(conversation, Conversation.EndReason.BACKEND_FAILED, "", timezone.now())
