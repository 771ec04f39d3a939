"""The chat websocket: authenticate, validate frame shapes, call one service, relay events.

The protocol is described in docs/protocol.md. No ORM code here:
every read and write goes through a chat service (chat.sessions, chat.messages, chat.endings)
in a worker thread.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import close_old_connections

from chat import endings, events, frames, messages, sessions
from chat.errors import ChatError
from crowd import vocabulary
from crowd.selectors import worker_id_from_scope

T = TypeVar("T")


# Service calls run in the shared thread pool, not asgiref's single "thread-sensitive" thread:
# each call is self-contained (its own transaction), and one thread for every socket of the
# process would serialise all chats behind each other.
def _db(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> T:
        # What database_sync_to_async does, inside the worker thread itself: a connection
        # older than CONN_MAX_AGE (or broken) is closed, never left open in the pool.
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)


# The per-frame calls, wrapped once rather than for every frame.
_post_message = _db(messages.post_message)
_answer_feedback = _db(messages.answer_feedback)


CLOSE_NO_WORKER = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4409
_CLOSE_OF_ERROR = {"not_found": CLOSE_NOT_FOUND, "forbidden": CLOSE_FORBIDDEN}


def _after(query_string: bytes) -> int:
    for part in query_string.decode("latin-1").split("&"):
        key, _, value = part.partition("=")
        if key == "after" and value.isdigit():
            return int(value)
    return 0


class ChatConsumer(AsyncWebsocketConsumer):
    """One participant's (or a staff watcher's) connection to one conversation."""

    watch = False
    role: str = ""
    conversation_id: int = 0
    worker_id: int | None = None
    # Messages up to this seq were sent in the replay; group events for them are skipped.
    replayed_up_to = 0
    ended = False

    async def connect(self) -> None:
        await self.accept()
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        staff = await self._identify()
        if staff is None:
            return
        session = await self._join(staff, _after(self.scope.get("query_string", b"")))
        if session is not None:
            await self._greet(session)

    async def _identify(self) -> bool | None:
        """True for staff, False for a worker (worker_id set); None when refused and closed."""
        if self.watch:
            user = await get_user(self.scope)
            if not user.is_authenticated or not user.is_staff:
                await self.close(code=CLOSE_FORBIDDEN if user.is_authenticated else CLOSE_NO_WORKER)
                return None
            return True
        self.worker_id = await _db(worker_id_from_scope)(self.scope)
        if self.worker_id is None:
            await self.close(code=CLOSE_NO_WORKER)
            return None
        return False

    async def _join(self, staff: bool, after: int) -> sessions.ChatSession | None:
        """Authorise, join the group, then read the replay; None when refused and closed."""
        try:
            await _db(sessions.authorize_connection)(
                self.conversation_id, worker_id=self.worker_id, staff=staff
            )
            # Join before reading the replay so nothing committed in between is missed; events
            # already covered by the replay are skipped by seq.
            await self.channel_layer.group_add(
                events.group_name(self.conversation_id), self.channel_name
            )
            return await _db(sessions.open_session)(
                self.conversation_id, worker_id=self.worker_id, staff=staff, after=after
            )
        except ChatError as exc:
            await self._leave_group()
            await self.close(code=_CLOSE_OF_ERROR.get(exc.code, CLOSE_FORBIDDEN))
            return None

    async def _greet(self, session: sessions.ChatSession) -> None:
        self.role = session.role
        if session.ended is not None:
            await self._leave_group()
            await self.send_json(session.ended)
            await self.close(code=CLOSE_ENDED)
            return
        await self.send_json(session.hello)
        for frame in session.replay:
            await self.send_json(frame)
        self.replayed_up_to = int(session.hello["last_seq"])
        if session.feedback_request is not None:
            await self.send_json(session.feedback_request)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale connections of asgiref's thread-sensitive
        # thread: a thread hop before every frame received and every group event, for a thread
        # this consumer never uses. _db does that check in the worker thread that queries.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        await self._leave_group()

    async def _leave_group(self) -> None:
        if self.conversation_id:
            await self.channel_layer.group_discard(
                events.group_name(self.conversation_id), self.channel_name
            )

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    async def send_error(self, code: str, message: str, ref: Any = None) -> None:
        await self.send_json(frames.error_frame(code, message, ref))

    # --- client → server ---------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.role:
            return
        frame = await self._parse(text_data)
        if frame is None:
            return
        ref = frame.get("id")
        if self.role == vocabulary.STAFF:
            await self.send_error("read_only", "Staff watch conversations read-only.", ref)
            return
        kind = frame.get("type")
        handler = {
            "message": self._message,
            "feedback": self._feedback,
            "typing": self._typing,
            "end": self._end,
        }.get(kind if isinstance(kind, str) else "")
        if handler is None:
            await self.send_error("unknown_type", "Unknown frame type.", ref)
        elif self.ended:
            await self.send_error("ended", "This conversation has ended.", ref)
        else:
            try:
                await handler(frame)
            except ChatError as exc:
                await self.send_error(exc.code, exc.message, ref)

    async def _parse(self, text_data: str | None) -> dict[str, Any] | None:
        """The frame as a JSON object, or None after telling the client it was not one."""
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self.send_error("bad_json", "Frames must be JSON objects.")
            return None
        return frame

    async def _message(self, frame: dict[str, Any]) -> None:
        assert self.worker_id is not None
        result = await _post_message(
            self.conversation_id,
            self.worker_id,
            client_id=frame.get("id"),
            text=frame.get("text"),
            strategy=frame.get("strategy"),
            defer_relay=True,
        )
        # Committed by now: post_message puts the relay event in result.relay only on commit.
        await events.relay(self.conversation_id, result.relay)
        await self.send_json(result.ack)
        if result.warning is not None:
            await self.send_json(result.warning)

    async def _feedback(self, frame: dict[str, Any]) -> None:
        assert self.worker_id is not None
        ack = await _answer_feedback(
            self.conversation_id,
            self.worker_id,
            prompt=frame.get("prompt"),
            score=frame.get("score"),
        )
        await self.send_json(ack)

    async def _typing(self, frame: dict[str, Any]) -> None:
        await events.send_typing(self.conversation_id, self.role)

    async def _end(self, frame: dict[str, Any]) -> None:
        assert self.worker_id is not None
        await _db(endings.end_conversation)(
            self.conversation_id, self.worker_id, reason=frame.get("reason")
        )

    # --- group events → this recipient's frames ------------------------------------------

    async def chat_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        kind = event.get("kind")
        if kind == "message":
            frame = event["message"]
            if int(frame["seq"]) <= self.replayed_up_to:
                return
            await self.send_json(frames.frame_for(self.role, frame))
            await self.send_json(event["status"][self.role])
            if self.role == vocabulary.SEEKER and event.get("feedback_request"):
                await self.send_json(event["feedback_request"])
        elif kind == "typing":
            if event["speaker"] != self.role:
                await self.send_json(frames.typing_frame(event["speaker"]))
        elif kind == "ended":
            self.ended = True
            await self.send_json(event["frames"][self.role])


class WatchConsumer(ChatConsumer):
    """Staff's read-only view of a conversation, strategies included."""

    watch = True
