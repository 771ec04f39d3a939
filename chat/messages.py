"""Messages and feedback: check → write → event (docs/protocol.md, "Messages").

`post_message` is the whole message path: `check_frame` validates the frame's shape and text
before anything is locked or written, `check_message` what depends on the sender's role and the
run (under the conversation's row lock), `do_post_message` stores it, and the relay event
leaves only after commit. Nothing else (analysis, detection) runs on this path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat import copies, events, frames, sql
from chat.errors import ChatError
from chat.models import Conversation, Utterance
from chat.sessions import lock_active
from crowd import vocabulary
from crowd.text import TextRefused, has_visible_text, normalise_text
from quality.models import Flag

MAX_CLIENT_ID_CHARS = 64
# Longer than any run allows (runs set max_message_chars): refused before the row is locked.
MAX_FRAME_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class MessageResult:
    ack: dict[str, Any]
    warning: dict[str, Any] | None
    duplicate: bool
    # With post_message(defer_relay=True): the events to relay, filled only on commit.
    relay: list[dict[str, Any]] = field(default_factory=list)


def check_frame(client_id: Any, text: Any, strategy: Any) -> str:
    """Refuse a malformed message frame before any lock or write; the text to store.

    The text is stored as typed (line ends kept) but in NFC, with \r\n made \n.
    """
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS
        or not client_id.isprintable()
    ):
        raise ChatError(
            "bad_id", f"A message needs an id of 1 to {MAX_CLIENT_ID_CHARS} printable characters."
        )
    if not isinstance(text, str):
        raise ChatError("empty_text", "A message needs some text.")
    if len(text) > MAX_FRAME_TEXT_CHARS:
        raise ChatError("text_too_long", "This message is far too long.")
    try:
        stored = normalise_text(text, strip=False)
    except TextRefused as exc:
        raise ChatError("bad_text", f"{exc} Please remove it and send again.") from None
    if not has_visible_text(stored):
        raise ChatError("empty_text", "A message needs some text.")
    if strategy is not None and not isinstance(strategy, str):
        raise ChatError("unknown_strategy", "That is not one of the eight strategies.")
    return stored


def check_message(text: str, strategy: str | None, role: str, conversation: Conversation) -> None:
    """Refuse a well-formed message that this sender may not send in this conversation now."""
    max_chars = conversation.run.max_message_chars
    if len(text) > max_chars:
        raise ChatError("text_too_long", f"A message may have at most {max_chars} characters.")
    if role == vocabulary.SEEKER:
        if strategy is not None:
            raise ChatError("strategy_not_allowed", "Only the supporter labels messages.")
    elif strategy is None or strategy == "":
        raise ChatError("strategy_required", "Choose a strategy before sending.")
    elif strategy not in vocabulary.STRATEGY_NAMES:
        raise ChatError("unknown_strategy", "That is not one of the eight strategies.")
    if conversation.last_seq >= settings.CHAT_MAX_MESSAGES_PER_CONVERSATION:
        raise ChatError("too_many_messages", "This conversation has reached its limit of messages.")


def resend_result(
    conversation: Conversation, stored: Utterance | None, client_id: Any, role: str
) -> tuple[MessageResult, dict[str, Any]] | None:
    """The ack of a resend whose id is already stored, and the event that relays it again.

    bad_id if the partner used that id. The author resends only what was not acknowledged, and
    the first relay may have been lost with the process or Redis; consumers drop what a socket
    was already sent, so nobody sees it twice.
    """
    if stored is None:
        return None
    if stored.speaker != role:
        raise ChatError("bad_id", "That message id is already used.")
    now = timezone.now()
    event = frames.message_event(frames.utterance_frame(stored), conversation, now, None)
    result = MessageResult(
        ack=frames.ack_frame(client_id, stored.position), warning=None, duplicate=True
    )
    return result, event


def resend_ack(
    conversation: Conversation,
    client_id: Any,
    role: str,
    outbox: list[dict[str, Any]] | None = None,
) -> MessageResult | None:
    """resend_result for the thread path: looks the id up and relays the event after commit."""
    if not isinstance(client_id, str) or not client_id:
        return None
    stored = Utterance.objects.filter(
        conversation_id=conversation.pk, client_message_id=client_id
    ).first()
    found = resend_result(conversation, stored, client_id, role)
    if found is None:
        return None
    events.send_after_commit(conversation.pk, found[1], outbox)
    return found[0]


def _count_message(conversation: Conversation, role: str, now: datetime) -> int | None:
    """Advance the live counters for one message (in memory); the feedback prompt it opens."""
    if role == vocabulary.SEEKER:
        conversation.seeker_last_message_at = now
        if conversation.last_speaker != role:
            conversation.seeker_blocks += 1
    else:
        conversation.supporter_last_message_at = now
        conversation.supporter_message_count += 1
        if conversation.last_speaker != role:
            conversation.supporter_blocks += 1
    conversation.last_speaker = role
    conversation.last_seq += 1
    if role != vocabulary.SUPPORTER:
        return None
    if conversation.supporter_message_count % conversation.run.feedback_every:
        return None
    # A newer prompt replaces one still unanswered: the seeker rates the latest.
    conversation.feedback_prompt_count += 1
    conversation.pending_feedback_prompt = conversation.feedback_prompt_count
    return conversation.feedback_prompt_count


@dataclass(frozen=True)
class PreparedMessage:
    """One checked message, counted into its locked conversation: what to store and to send."""

    utterance: dict[str, Any]  # a value for each of chat.sql.UTTERANCE_COLUMNS
    flag: dict[str, Any] | None  # a value for each of chat.sql.FLAG_COLUMNS, if it copies
    event: dict[str, Any]
    ack: dict[str, Any]
    warning: dict[str, Any] | None
    # The conversation's live fields before counting, to put back if it turns out a resend.
    live_before: dict[str, Any]


def prepare_message(
    conversation: Conversation,
    role: str,
    *,
    client_id: str,
    text: str,
    strategy: str | None,
    copied: str | None,
    compose: dict[str, Any] | None = None,
) -> PreparedMessage:
    """Count a checked message into the locked conversation (in memory); what to write and send.

    The seeker's first message after answering a feedback prompt carries that score. `copied`
    is the tutorial example a supporter message copies (chat.copies), if any: it is flagged.
    """
    live_before = {name: getattr(conversation, name) for name in Conversation.LIVE_FIELDS}
    now = timezone.now()
    feedback = conversation.pending_feedback_score if role == vocabulary.SEEKER else None
    if role == vocabulary.SEEKER:
        conversation.pending_feedback_score = None
    prompt = _count_message(conversation, role, now)
    seq = conversation.last_seq
    label = strategy if role == vocabulary.SUPPORTER else None
    utterance = {
        "conversation_id": conversation.pk,
        "position": seq,
        "speaker": role,
        "text": text,
        "strategy": label,
        "feedback": feedback,
        "sent_at": now,
        "client_message_id": client_id,
        # JSON text: the raw insert's parameter (PostgreSQL infers jsonb, SQLite keeps text).
        "compose": None if compose is None else json.dumps(compose, separators=(",", ":")),
    }
    flag = None
    if label and copied is not None:
        flag = {
            "conversation_id": conversation.pk,
            "kind": Flag.Kind.COPIED_EXAMPLE.value,
            "detail": copies.flag_detail(copied),
            "created_at": now,
            "resolved_at": None,
            "resolution_note": "",
        }
    message = frames.message_frame(
        seq=seq, client_id=client_id, speaker=role, text=text, sent_at=now, strategy=label
    )
    return PreparedMessage(
        utterance=utterance,
        flag=flag,
        event=frames.message_event(message, conversation, now, prompt),
        ack=frames.ack_frame(client_id, seq),
        warning=frames.copied_example_warning() if flag else None,
        live_before=live_before,
    )


def unprepare(conversation: Conversation, prepared: PreparedMessage) -> None:
    """Put back the live fields prepare_message advanced (the message was a resend)."""
    for name, value in prepared.live_before.items():
        setattr(conversation, name, value)


def do_post_message(
    conversation: Conversation,
    role: str,
    *,
    client_id: str,
    text: str,
    strategy: str | None,
    outbox: list[dict[str, Any]] | None = None,
    compose: dict[str, Any] | None = None,
) -> MessageResult:
    """Store a checked message in a locked conversation and relay it after commit."""
    copied = copies.copied_example(text) if role == vocabulary.SUPPORTER else None
    prepared = prepare_message(
        conversation,
        role,
        client_id=client_id,
        text=text,
        strategy=strategy,
        copied=copied,
        compose=compose,
    )
    utterance_id = sql.insert_utterance(prepared.utterance)
    if utterance_id is None:
        # The id is already stored (a resend): nothing was written.
        unprepare(conversation, prepared)
        stored = resend_ack(conversation, client_id, role, outbox)
        if stored is None:  # pragma: no cover - a position clash: the lock rules it out
            raise ChatError("bad_id", "That message id is already used.")
        return stored
    sql.save_live_fields(conversation)
    if prepared.flag is not None:
        Flag.objects.create(utterance_id=utterance_id, **prepared.flag)
    events.send_after_commit(conversation.pk, prepared.event, outbox)
    return MessageResult(ack=prepared.ack, warning=prepared.warning, duplicate=False)


def post_message(
    conversation_id: int,
    worker_id: int,
    *,
    client_id: Any,
    text: Any,
    strategy: Any = None,
    defer_relay: bool = False,
    compose: dict[str, Any] | None = None,
) -> MessageResult:
    """Store a message (seq = position, allocated under a row lock), then relay it after commit.

    A resend of an id already stored is acknowledged with its original seq and relayed again.
    With `defer_relay`, the committed relay event is returned in `result.relay` for the caller
    to send (the websocket consumer does it on its event loop) instead of being sent here.
    """
    stored_text = check_frame(client_id, text, strategy)
    outbox: list[dict[str, Any]] = []
    with transaction.atomic():
        conversation, role = lock_active(conversation_id, worker_id)
        try:
            check_message(stored_text, strategy, role, conversation)
        except ChatError:
            # A resend of a stored id is acked (or refused as the partner's) before the rules
            # of the moment are applied: it was accepted when it was first sent.
            stored = resend_ack(conversation, client_id, role, outbox if defer_relay else None)
            if stored is None:
                raise
            result = stored
        else:
            result = do_post_message(
                conversation,
                role,
                client_id=client_id,
                text=stored_text,
                strategy=strategy,
                outbox=outbox if defer_relay else None,
                compose=compose,
            )
    return MessageResult(
        ack=result.ack, warning=result.warning, duplicate=result.duplicate, relay=outbox
    )


def check_feedback(prompt: Any, score: Any) -> None:
    """The frame's prompt and score are of the right kinds (ChatError bad_feedback if not)."""
    if not isinstance(prompt, int) or isinstance(prompt, bool):
        raise ChatError("bad_feedback", "Feedback needs the prompt number.")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ChatError("bad_feedback", "The score must be a whole number from 1 to 5.")


def answer_feedback(
    conversation_id: int, worker_id: int, *, prompt: Any, score: Any
) -> dict[str, Any]:
    """Keep the seeker's stars for an open prompt; they are stored on the next seeker message."""
    check_feedback(prompt, score)
    ack = frames.feedback_ack_frame(prompt, score)
    # The usual case in one conditional UPDATE (it locks the row itself); when it changes
    # nothing, the locked path below finds out why.
    if sql.answer_open_prompt(conversation_id, worker_id, prompt, score):
        return ack
    with transaction.atomic():
        conversation, role = lock_active(conversation_id, worker_id)
        if role != vocabulary.SEEKER:
            raise ChatError("feedback_not_allowed", "Only the seeker answers feedback prompts.")
        if conversation.pending_feedback_prompt != prompt:
            raise ChatError("no_open_prompt", "There is no open feedback prompt with that number.")
        Conversation.objects.filter(pk=conversation.pk).update(
            pending_feedback_prompt=None, pending_feedback_score=score
        )
    return ack
