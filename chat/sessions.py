"""Who may connect to or act in a conversation, and what a connecting websocket is told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from chat import frames, rules, sql
from chat.errors import ChatError
from chat.models import Conversation
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
    if staff:
        return conversation, vocabulary.STAFF
    role = _participant_role(conversation, worker_id)
    # The seeker's survey was checked when they were matched; a supporter's qualification can
    # be withdrawn later, so it is asked again at every connection.
    supporter = conversation.supporter
    if role == vocabulary.SUPPORTER and not (supporter and supporter.is_qualified_supporter):
        raise ChatError("forbidden", "Only qualified supporters may chat.")
    return conversation, role


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
    pending = frames.pending_prompt_for(conversation, role)
    replay = [
        frames.frame_for(role, frames.utterance_frame(u))
        for u in conversation.utterances.filter(position__gt=max(0, after)).order_by("position")
    ]
    return ChatSession(
        role=role,
        conversation_id=conversation.pk,
        hello=frames.hello_frame(conversation, role, timezone.now()),
        replay=replay,
        feedback_request=frames.feedback_request_frame(pending) if pending else None,
        ended=None,
    )


def lock_active(conversation_id: int, worker_id: int) -> tuple[Conversation, str]:
    """Lock a live conversation for a participant's write; refuse outsiders and ended chats."""
    conversation = sql.locked_conversation(conversation_id)
    if conversation is None:
        raise ChatError("not_found", "There is no such conversation.")
    role = _participant_role(conversation, worker_id)
    if not conversation.is_active:
        raise ChatError("ended", "This conversation has ended.")
    return conversation, role
