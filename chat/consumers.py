"""The chat websocket: authenticate, validate frame shapes, call one service, relay events.

The protocol is described in docs/protocol.md. No ORM code here: every read and write goes
through a chat service (chat.sessions, chat.messages, chat.endings) in a worker thread. What
each socket has been sent, the heartbeat and presence live in chat.delivery; the caps on frames,
sockets and typing in chat.limits. No frame, however malformed, may end the socket: each gets
an error frame (docs/protocol.md, "Errors" and "Limits").
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import orjson
from channels.auth import get_user
from channels.consumer import get_handler_name

from chat import (
    composition,
    endings,
    frames,
    limits,
    live_store,
    messages,
    screening,
    sessions,
    staff,
)
from chat.delivery import DeliveringConsumer, in_thread
from chat.errors import INFRASTRUCTURE_ERRORS, RETRYABLE, ChatError
from crowd import vocabulary
from crowd.selectors import worker_id_from_scope
from esc_platform import safe_json
from evaluation import live as evaluation_live

logger = logging.getLogger(__name__)

# The per-frame calls, wrapped once rather than for every frame.
_post_message = in_thread(messages.post_message)
_answer_feedback = in_thread(messages.answer_feedback)
_claim_slot = in_thread(limits.claim_socket_slot)
_refresh_slot = in_thread(limits.refresh_socket_slot)
_release_slot = in_thread(limits.release_socket_slot)
_post_staff_message = in_thread(staff.post_staff_message)
_end_as_staff = in_thread(staff.end_as_staff)

CLOSE_NO_WORKER = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4409
# The worker already has CHAT_MAX_SOCKETS_PER_WORKER chat sockets open.
CLOSE_TOO_MANY_SOCKETS = 4429
# The database or Redis behind the server failed: the page tries again shortly.
CLOSE_UNAVAILABLE = 4503
# A frame is one flat object; a little room for what later versions of the page may send.
FRAME_MAX_DEPTH = 4
_CLOSE_OF_ERROR = {"not_found": CLOSE_NOT_FOUND, "forbidden": CLOSE_FORBIDDEN}
UNAVAILABLE_MESSAGE = "The chat server could not take this right now; it is retried."
RATE_LIMITED = "rate_limited"
SLOW_DOWN = "Too many frames at once; this one was dropped and is sent again shortly."
# The largest id a database row can have (a signed 64-bit integer).
MAX_ROW_ID = 2**63 - 1


def _query(query_string: bytes) -> dict[str, str]:
    pairs = (part.partition("=") for part in query_string.decode("latin-1").split("&"))
    return {key: value for key, _, value in pairs if key}


def _after(query: dict[str, str]) -> int:
    """The replay's starting seq: ASCII digits of a row id's size, anything else is 0."""
    value = query.get("after", "")
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return 0
    return int(value)


class ChatConsumer(DeliveringConsumer):
    """One participant's (or a staff watcher's) connection to one conversation."""

    watch = False
    staff_user_id = 0
    # Whether a model is the supporter (docs/evaluation.md); read on the first seeker message.
    model_chat: bool | None = None
    # Typing frames received since this socket's last stored message (chat.composition).
    typing_seen = 0
    slot = ""
    _slot_refreshed_at = 0.0

    async def connect(self) -> None:
        await self.accept()
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        if not 0 < self.conversation_id <= MAX_ROW_ID:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.budget = limits.FrameBudget.from_settings()
        self.typing_gate = limits.TypingGate()
        query = _query(self.scope.get("query_string", b""))
        # heartbeat=1: the client pings, wants presence frames, and may be dropped when silent.
        self.heartbeat = query.get("heartbeat") == "1"
        try:
            session = await self._open(_after(query))
            if session is None:
                return
            staff = self.watch
            # Only a socket that stays open holds one of the worker's slots.
            if staff or session.ended is not None or await self._take_slot():
                await self._greet(session)
        except INFRASTRUCTURE_ERRORS:
            logger.warning("chat connect failed: a service is unavailable", exc_info=True)
            await self._leave_group()
            await self.close(code=CLOSE_UNAVAILABLE)

    async def _open(self, after: int) -> sessions.ChatSession | None:
        """Who this socket is and what it is told first; None when refused and closed.

        On PostgreSQL a worker joining a live chat is one database round trip
        (chat.live_store.open_session); any other case takes the thread path. The group is
        joined before the replay is read, so a message committed in between comes as an event
        (dropped by seq when the replay has it); events wait until the greeting is sent.
        """
        if not self.watch and live_store.enabled():
            await self._join_group()
            connected = await live_store.open_session(
                self.scope["session"], self.conversation_id, after
            )
            if connected is not None:
                self.worker_id = connected.worker_id
                return connected.session
        staff = await self._identify()
        if staff is None:
            await self._leave_group()
            return None
        return await self._join(staff, after)

    async def _identify(self) -> bool | None:
        """True for staff, False for a worker (worker_id set); None when refused and closed."""
        if self.watch:
            user = await get_user(self.scope)
            if not user.is_authenticated or not user.is_staff:
                await self.close(code=CLOSE_FORBIDDEN if user.is_authenticated else CLOSE_NO_WORKER)
                return None
            self.staff_user_id = user.pk
            return True
        self.worker_id = await in_thread(worker_id_from_scope)(self.scope)
        if self.worker_id is None:
            await self.close(code=CLOSE_NO_WORKER)
            return None
        return False

    async def _take_slot(self) -> bool:
        """Hold one of the worker's socket slots; False when all are taken (closed 4429)."""
        slot = await _claim_slot(self.worker_id, self.channel_name)
        if slot is None:
            await self._leave_group()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return False
        self.slot, self._slot_refreshed_at = slot, time.monotonic()
        return True

    async def _join(self, staff: bool, after: int) -> sessions.ChatSession | None:
        """Authorise, join the group, then read the replay; None when refused and closed."""
        try:
            await in_thread(sessions.authorize_connection)(
                self.conversation_id, worker_id=self.worker_id, staff=staff
            )
            # Join before reading the replay so nothing committed in between is missed; events
            # already covered by the replay are skipped by seq.
            await self._join_group()
            return await in_thread(sessions.open_session)(
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
        self.sent_up_to = int(session.hello["last_seq"])
        if session.feedback_request is not None:
            await self.send_json(session.feedback_request)
        self.start_heartbeat()
        await self.announce_presence(online=True, announce=True)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale connections of asgiref's thread-sensitive
        # thread: a thread hop before every frame received and every group event, for a thread
        # this consumer never uses. in_thread does that check in the worker thread that queries.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        await self.stop_heartbeat()
        await self._leave_group()
        await self._free_slot()

    async def _free_slot(self) -> None:
        if self.slot:
            slot, self.slot = self.slot, ""
            await _release_slot(slot, self.channel_name)

    async def _keep_slot(self) -> None:
        """Refresh this socket's slot now and then, so that only dead sockets' slots expire."""
        if self.slot and time.monotonic() - self._slot_refreshed_at >= limits.SLOT_REFRESH_SECONDS:
            self._slot_refreshed_at = time.monotonic()
            await _refresh_slot(self.slot, self.channel_name)

    async def send_json(self, frame: dict[str, Any]) -> None:
        # orjson: a few times faster than json.dumps, and this is once per frame per socket. It
        # refuses what is not valid UTF-8 (a lone surrogate echoed back from a refused frame),
        # which json.dumps writes as an escape.
        try:
            text = orjson.dumps(frame).decode()
        except TypeError:
            text = json.dumps(frame)
        await self.send(text_data=text)

    async def send_error(self, code: str, message: str, ref: Any = None) -> None:
        await self.send_json(frames.error_frame(code, message, ref))

    # --- client → server ---------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.role:
            return
        self.heard()
        await self._keep_slot()
        frame = await self._parse(text_data)
        if frame is None:
            return
        ref, kind = frame.get("id"), frame.get("type")
        if not self.budget.take():
            # Dropped, not refused: the page sends it again a little later.
            await self.send_json(
                {**frames.error_frame(RATE_LIMITED, SLOW_DOWN, ref), "retryable": True}
            )
            return
        if kind == "ping":
            await self.answer_ping()
        elif self.role == vocabulary.STAFF:
            await self._staff_frame(frame, kind, ref)
        else:
            await self._dispatch_frame(frame, kind, ref)

    async def _dispatch_frame(self, frame: dict[str, Any], kind: Any, ref: Any) -> None:
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
            await self._handle(handler, frame, ref)

    async def _staff_frame(self, frame: dict[str, Any], kind: Any, ref: Any) -> None:
        """Staff watch read-only, except to write to the workers or end the chat for safety."""
        handler = {"staff_message": self._staff_message, "end": self._staff_end}.get(
            kind if isinstance(kind, str) else ""
        )
        if handler is None:
            await self.send_error(
                "read_only", "Staff may only write to the workers or end the chat here.", ref
            )
        elif self.ended:
            await self.send_error("ended", "This conversation has ended.", ref)
        else:
            await self._handle(handler, frame, ref)

    async def _staff_message(self, frame: dict[str, Any]) -> None:
        sent = await _post_staff_message(
            self.conversation_id,
            self.staff_user_id,
            client_id=frame.get("id"),
            text=frame.get("text"),
        )
        await self.send_json({"type": "ack", "id": sent["id"], "staff": True})

    async def _staff_end(self, frame: dict[str, Any]) -> None:
        if frame.get("reason") != "staff":
            raise ChatError("unknown_reason", "Staff end a chat with the reason staff.")
        await _end_as_staff(self.conversation_id)

    async def _handle(self, handler: Any, frame: dict[str, Any], ref: Any) -> None:
        """Run one frame's handler; a refusal or a failed service becomes an error frame."""
        try:
            await handler(frame)
        except ChatError as exc:
            await self.send_error(exc.code, exc.message, ref)
        except INFRASTRUCTURE_ERRORS:
            logger.warning("chat frame failed: a service is unavailable", exc_info=True)
            await self.send_json(
                {**frames.error_frame(RETRYABLE, UNAVAILABLE_MESSAGE, ref), "retryable": True}
            )

    async def _parse(self, text_data: str | None) -> dict[str, Any] | None:
        """The frame as a JSON object, or None after telling the client it was not one."""
        try:
            frame = safe_json.loads(text_data or "", max_depth=FRAME_MAX_DEPTH)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self.send_error("bad_json", "Frames must be JSON objects.")
            return None
        return frame

    async def _message(self, frame: dict[str, Any]) -> None:
        assert self.worker_id is not None
        fields = {"client_id": frame.get("id"), "text": frame.get("text")}
        fields["strategy"] = frame.get("strategy")
        # What the page measured while the message was written, beside what this socket saw.
        fields["compose"] = composition.check_compose(frame.get("compose"), self.typing_seen)
        if live_store.enabled():
            result = await live_store.post_message(self.conversation_id, self.worker_id, **fields)
        else:
            result = await _post_message(
                self.conversation_id, self.worker_id, defer_relay=True, **fields
            )
        # Committed by now: post_message puts the relay event in result.relay only on commit.
        # A failed relay does not undo the ack: it is retried, and pages catch up by seq.
        await self.relay_committed(result.relay)
        for event in result.relay:
            await self.deliver_message(event)
        await self.send_json(result.ack)
        if result.warning is not None:
            await self.send_json(result.warning)
        if not result.duplicate:
            self.typing_seen = 0
            # After the acknowledgement, off the event loop: the message path holds no analysis.
            screening.screen_later(self.conversation_id, result.relay)
            if await self._with_model():
                evaluation_live.reply_later(self.conversation_id, result.relay)

    async def _with_model(self) -> bool:
        """Whether the supporter of this chat is a model (asked once per socket)."""
        if self.role != vocabulary.SEEKER:
            return False
        if self.model_chat is None:
            self.model_chat = await in_thread(evaluation_live.is_model_chat)(self.conversation_id)
        return self.model_chat

    async def _feedback(self, frame: dict[str, Any]) -> None:
        assert self.worker_id is not None
        answer = live_store.answer_feedback if live_store.enabled() else _answer_feedback
        ack = await answer(
            self.conversation_id,
            self.worker_id,
            prompt=frame.get("prompt"),
            score=frame.get("score"),
        )
        await self.send_json(ack)

    async def _typing(self, frame: dict[str, Any]) -> None:
        self.typing_seen += 1
        if self.typing_gate.open():
            await self.relay_quietly(frames.typing_event(self.role))

    async def _end(self, frame: dict[str, Any]) -> None:
        assert self.worker_id is not None
        await in_thread(endings.end_conversation)(
            self.conversation_id, self.worker_id, reason=frame.get("reason")
        )


class WatchConsumer(ChatConsumer):
    """Staff's read-only view of a conversation, strategies included."""

    watch = True
