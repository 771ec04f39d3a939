"""Who may connect to or act in a conversation, and what a connecting websocket is told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from chat import frames, rules, sql
from chat.errors import ChatError
from chat.models import Conversation, Utterance
from crowd import vocabulary


@dataclass(frozen=True)
class ChatSession:
    """What a connecting websocket is told: who it is, the state, and the replay."""

    role: str
    conversation_id: int
    hello: dict[str, Any]
    replay: list[dict[str, Any]]
    feedback_request: dict[str, Any] | None
    ended: dict[str, Any] | None


def _participant_role(conversation: Conversation, worker_id: int | None) -> str:
    role = rules.role_in(conversation, worker_id)
    if role is None:
        raise ChatError("forbidden", "You are not a participant of this conversation.")
    return role


def connection_role(conversation: Conversation, worker_id: int | None, staff: bool) -> str:
    """The role a websocket has in this conversation (its supporter loaded, or loadable).

    Raises ChatError "forbidden" for an outsider or an unqualified supporter.
    """
    if staff:
        return vocabulary.STAFF
    role = _participant_role(conversation, worker_id)
    # The seeker's survey was checked when they were matched; a supporter's qualification can
    # be withdrawn later, so it is asked again at every connection.
    supporter = conversation.supporter
    if role == vocabulary.SUPPORTER and not (supporter and supporter.is_qualified_supporter):
        raise ChatError("forbidden", "Only qualified supporters may chat.")
    return role


def _authorized(
    conversation_id: int, worker_id: int | None, staff: bool
) -> tuple[Conversation, str]:
    conversation = (
        Conversation.objects.select_related("run", "seeker", "supporter")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise ChatError("not_found", "There is no such conversation.")
    return conversation, connection_role(conversation, worker_id, staff)


def authorize_connection(conversation_id: int, *, worker_id: int | None, staff: bool) -> str:
    """The role of a websocket in a conversation, checked before it joins the group.

    Raises ChatError "not_found" or "forbidden" (an outsider or an unqualified supporter).
    """
    return _authorized(conversation_id, worker_id, staff)[1]


def open_session(
    conversation_id: int, *, worker_id: int | None, staff: bool = False, after: int = 0
) -> ChatSession:
    """Authorise a websocket and build its hello, replay (seq > after) and open prompt.

    Raises ChatError "not_found" or "forbidden" (an outsider or an unqualified supporter).
    """
    conversation, role = _authorized(conversation_id, worker_id, staff)
    if not conversation.is_active:
        ended = frames.ended_frame(conversation, role)
        return ChatSession(role, conversation.pk, {}, [], None, ended)
    return live_session(conversation, role, _frames_between(conversation.pk, role, after, None))


def replay_frames(role: str, utterances: list[Utterance]) -> list[dict[str, Any]]:
    """The message frames of stored utterances (in order), as this role sees them."""
    return [frames.frame_for(role, frames.utterance_frame(u)) for u in utterances]


def live_session(
    conversation: Conversation, role: str, replay: list[dict[str, Any]]
) -> ChatSession:
    """The session of a socket joining a live conversation, its replay read after the row."""
    pending = frames.pending_prompt_for(conversation, role)
    hello = frames.hello_frame(conversation, role, timezone.now())
    # A message committed between reading the conversation and reading the replay is in the
    # replay: the hello's last_seq covers it, so the consumer does not send it a second time.
    hello["last_seq"] = max([hello["last_seq"], *(f["seq"] for f in replay)])
    return ChatSession(
        role=role,
        conversation_id=conversation.pk,
        hello=hello,
        replay=replay,
        feedback_request=frames.feedback_request_frame(pending) if pending else None,
        ended=None,
    )


def _frames_between(
    conversation_id: int, role: str, after: int, up_to: int | None
) -> list[dict[str, Any]]:
    utterances = Utterance.objects.filter(
        conversation_id=conversation_id, position__gt=max(0, after)
    )
    if up_to is not None:
        utterances = utterances.filter(position__lte=up_to)
    return replay_frames(role, list(utterances.order_by("position")))


def missed_messages(
    conversation_id: int, role: str, *, after: int, up_to: int
) -> list[dict[str, Any]]:
    """The message frames a socket has not been sent yet (seq after..up_to), in order.

    A consumer that sees a seq jump (an event lost between another process's commit and its
    relay) fills the gap from the database instead of trusting the channel layer.
    """
    return _frames_between(conversation_id, role, after, up_to)


@dataclass(frozen=True)
class SyncState:
    last_seq: int
    ended: dict[str, Any] | None  # the role's ended frame, once the conversation has ended


def sync_state(conversation_id: int, role: str) -> SyncState | None:
    """Where the conversation stands now, for a heartbeat to catch up on anything missed.

    One primary-key read while the chat is live; the ended frame only once it has ended.
    """
    row = Conversation.objects.filter(pk=conversation_id).values_list("last_seq", "state").first()
    if row is None:
        return None
    last_seq, state = row
    if state == Conversation.State.ACTIVE:
        return SyncState(last_seq=last_seq, ended=None)
    conversation = Conversation.objects.select_related("seeker", "supporter").get(
        pk=conversation_id
    )
    return SyncState(last_seq=last_seq, ended=frames.ended_frame(conversation, role))


def writable_role(conversation: Conversation | None, worker_id: int) -> str:
    """The role of a participant about to write to this (locked) conversation, if live."""
    if conversation is None:
        raise ChatError("not_found", "There is no such conversation.")
    role = _participant_role(conversation, worker_id)
    if not conversation.is_active:
        raise ChatError("ended", "This conversation has ended.")
    return role


def lock_active(conversation_id: int, worker_id: int) -> tuple[Conversation, str]:
    """Lock a live conversation for a participant's write; refuse outsiders and ended chats."""
    conversation = sql.locked_conversation(conversation_id)
    role = writable_role(conversation, worker_id)
    assert conversation is not None
    return conversation, role
