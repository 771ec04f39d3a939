"""What each socket of a conversation is sent: every stored message once, in order.

The channel layer is a fast path, not the record. A consumer remembers the highest seq it has
sent (`sent_up_to`); an event at or below it is a duplicate and dropped, and an event beyond
the next seq means something was lost between another process's commit and its relay, so the
gap is read from the database first. A heartbeat (the page's `ping`) also catches up on what
a quiet conversation may have lost, shows who is online, and drops sockets whose network is
gone. See docs/protocol.md, "Delivery under faults".
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections

from chat import events, frames, sessions
from chat.errors import INFRASTRUCTURE_ERRORS
from crowd import vocabulary

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The page stopped answering: its network is gone (a closed tab closes the socket at once).
CLOSE_HEARTBEAT_LOST = 4408
# Retries of a relay that failed after its message was stored, in seconds from the failure.
RELAY_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


# Service calls run in the shared thread pool, not asgiref's single "thread-sensitive" thread:
# each call is self-contained (its own transaction), and one thread for every socket of the
# process would serialise all chats behind each other.
def in_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
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


async def bounded(operation: Awaitable[T]) -> T:
    """A channel-layer call that gives up after REDIS_OPERATION_TIMEOUT (TimeoutError).

    Behind a partition Redis does not fail, it hangs; the socket must not hang with it.
    """
    return await asyncio.wait_for(operation, settings.REDIS_OPERATION_TIMEOUT)


_missed_messages = in_thread(sessions.missed_messages)
_sync_state = in_thread(sessions.sync_state)


class DeliveringConsumer(AsyncWebsocketConsumer):
    """The delivery, heartbeat and presence half of the chat consumer."""

    role: str = ""
    conversation_id: int = 0
    worker_id: int | None = None
    sent_up_to = 0
    ended = False
    heartbeat = False
    _joined = False
    _heard_at = 0.0
    _synced_at = 0.0
    _watchdog: asyncio.Task[None] | None = None

    client_gone = False

    async def send_json(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send, unless the client has gone: then there is nobody left to tell anything.

        The server raises an OSError (uvicorn's ClientDisconnected) for a frame to a socket the
        client closed a moment ago; the disconnect that follows ends this consumer. It is not a
        failing service, so it is neither answered nor logged as one.
        """
        if self.client_gone:
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except OSError:
            self.client_gone = True
            logger.debug("a frame for a client that has gone was dropped")

    # --- group membership and relays -----------------------------------------------------

    async def _join_group(self) -> None:
        if self._joined:
            return
        await bounded(
            self.channel_layer.group_add(events.group_name(self.conversation_id), self.channel_name)
        )
        self._joined = True

    async def _leave_group(self) -> None:
        if not self._joined:
            return
        self._joined = False
        try:
            await bounded(
                self.channel_layer.group_discard(
                    events.group_name(self.conversation_id), self.channel_name
                )
            )
        except INFRASTRUCTURE_ERRORS:
            logger.warning("could not leave a chat group", exc_info=True)

    async def relay_committed(self, committed: list[dict[str, Any]]) -> None:
        """Relay committed events; when Redis fails, retry in the background, never drop."""
        await relay_with_retries(self.conversation_id, committed)

    async def relay_quietly(self, event: dict[str, Any]) -> None:
        """Relay an event nobody stores (typing, presence): a failure only costs a notice."""
        try:
            await bounded(events.relay(self.conversation_id, [event]))
        except INFRASTRUCTURE_ERRORS:
            logger.warning("could not relay a %s event", event.get("kind"), exc_info=True)

    # --- group events → this recipient's frames ------------------------------------------

    async def chat_event(self, message: dict[str, Any]) -> None:
        if not self.role:
            # Not greeted: a socket refused after joining the group, on its way out.
            return
        event = message["event"]
        kind = event.get("kind")
        if kind == "message":
            await self.deliver_message(event)
        elif kind == "typing":
            if event["speaker"] != self.role:
                await self.send_json(frames.typing_frame(event["speaker"]))
        elif kind == "presence":
            await self._on_presence(event)
        elif kind == "staff_message":
            await self.send_json(event["frame"])
        elif kind == "notice":
            # A frame for some roles only, stored nowhere (evaluation.live: "one moment").
            if self.role in event["roles"]:
                await self.send_json(event["frame"])
        elif kind == "safety":
            frame = frames.safety_frame(self.role, event)
            if frame is not None:
                await self.send_json(frame)
        elif kind == "ended" and not self.ended:
            self.ended = True
            await self.send_json(event["frames"][self.role])

    async def deliver_message(self, event: dict[str, Any]) -> None:
        """Send a message event's frame unless this socket has it; fill any gap before it first.

        The author's own socket is sent its message straight after commit (the consumer calls
        this itself), so the copy that comes back through the group is dropped here by seq.
        """
        seq = int(event["message"]["seq"])
        if seq <= self.sent_up_to:
            return
        if seq > self.sent_up_to + 1:
            try:
                await self._send_missed(seq - 1)
            except INFRASTRUCTURE_ERRORS:
                # Nothing is skipped: the heartbeat's catch-up sends the range later, in order.
                logger.warning("could not fill a gap in seq", exc_info=True)
                return
        await self.send_json(frames.delivered_frame(self.role, event))
        self.sent_up_to = seq
        if self.role == vocabulary.SEEKER and event.get("feedback_request"):
            await self.send_json(event["feedback_request"])

    async def _send_missed(self, up_to: int) -> None:
        missed = await _missed_messages(
            self.conversation_id, self.role, after=self.sent_up_to, up_to=up_to
        )
        for frame in missed:
            await self.send_json(frame)
            self.sent_up_to = int(frame["seq"])

    # --- heartbeat: ping → pong, catch-up, dead-network watchdog ---------------------------

    def heard(self) -> None:
        self._heard_at = time.monotonic()

    def start_heartbeat(self) -> None:
        """Watch a heartbeat client's pings; only such a client is dropped for falling silent."""
        if self.heartbeat and self._watchdog is None:
            self.heard()
            self._watchdog = asyncio.ensure_future(self._watch())

    async def answer_ping(self) -> None:
        await self.send_json({"type": "pong"})
        if time.monotonic() - self._synced_at >= settings.CHAT_SYNC_SECONDS:
            self._synced_at = time.monotonic()
            try:
                await self._catch_up()
            except INFRASTRUCTURE_ERRORS:
                logger.warning("heartbeat catch-up failed", exc_info=True)

    async def _catch_up(self) -> None:
        state = await _sync_state(self.conversation_id, self.role)
        if state is None:
            return
        if state.last_seq > self.sent_up_to:
            await self._send_missed(state.last_seq)
        if state.ended is not None and not self.ended:
            self.ended = True
            await self.send_json(state.ended)

    async def _watch(self) -> None:
        timeout = settings.CHAT_HEARTBEAT_TIMEOUT_SECONDS
        while True:
            await asyncio.sleep(min(2.0, timeout / 4))
            if time.monotonic() - self._heard_at > timeout:
                # Behind a dead network the close handshake never completes, so the disconnect
                # would come only when the server gives up on it: tell the partner now.
                await self.announce_presence(online=False, announce=False)
                await self._leave_group()
                await self.close(code=CLOSE_HEARTBEAT_LOST)
                return

    async def stop_heartbeat(self) -> None:
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        self._watchdog = None
        await self.announce_presence(online=False, announce=False)

    # --- presence ----------------------------------------------------------------------------

    async def announce_presence(self, *, online: bool, announce: bool) -> None:
        """Tell the partner this participant came or went (`announce`: please answer)."""
        if (
            self.heartbeat
            and self._joined
            and self.role in (vocabulary.SEEKER, vocabulary.SUPPORTER)
        ):
            await self.relay_quietly(frames.presence_event(self.role, online, announce))

    async def _on_presence(self, event: dict[str, Any]) -> None:
        if event["role"] == self.role or not self.heartbeat:
            return
        await self.send_json(frames.presence_frame(event["role"], event["online"]))
        if event["announce"] and event["online"]:
            # The newcomer learns that this side is here too.
            await self.announce_presence(online=True, announce=False)


# Relay retries and safety screenings outlive the socket that started them: the partner still
# needs the message, and staff the alert.
_background: set[asyncio.Future[None]] = set()


def in_background(work: Awaitable[None]) -> asyncio.Future[None]:
    """Run `work` on the event loop without waiting for it, holding it until it is done."""
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def relay_with_retries(conversation_id: int, committed: list[dict[str, Any]]) -> None:
    """Relay committed events now, or keep retrying in the background when Redis fails."""
    try:
        await bounded(events.relay(conversation_id, committed))
    except INFRASTRUCTURE_ERRORS:
        logger.warning("relay failed; retrying in the background", exc_info=True)
        in_background(_relay_later(conversation_id, committed))


async def _relay_later(conversation_id: int, committed: list[dict[str, Any]]) -> None:
    for delay in RELAY_RETRY_DELAYS:
        await asyncio.sleep(delay)
        try:
            await bounded(events.relay(conversation_id, committed))
            return
        except INFRASTRUCTURE_ERRORS:
            continue
    logger.error("gave up relaying to conversation %s; pages catch up by seq", conversation_id)
