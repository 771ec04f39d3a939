"""The live chat's safety screening, after the acknowledgement, and the staff alerts socket.

The chat consumer calls `screen_later` once a message is stored, acknowledged and relayed;
the detector runs in a worker thread (safety.live.screen_messages, a batch of what arrived
within BATCH_SECONDS), never on the event loop,
and whatever it raised reaches the conversation's sockets and every open staff page within
moments (docs/safety.md, "In a live chat"). How each message was written is judged in the same
batch; whether the run holds it already (docs/authenticity.md, "Duplicates in a run") in a
larger one, a second later. A screening that fails is logged without the message, and the
quality job screens the message again before judging it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from channels.auth import get_user
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from authenticity import live as authenticity_live
from chat.delivery import bounded, in_background, in_thread, relay_with_retries
from chat.errors import INFRASTRUCTURE_ERRORS
from safety import live

logger = logging.getLogger(__name__)


def _after_acknowledgement(batch: list[live.StoredMessage]) -> list[tuple[int, live.Screening]]:
    """What is judged of stored messages at once, in one worker thread: safety (what to tell)
    and how they were written (flags for reviewers only)."""
    screened = live.screen_messages(batch) if settings.SAFETY_LIVE_SCREENING else []
    authenticity_live.check_composition((m.conversation_id, m.position) for m in batch)
    return screened


def _across_run(batch: list[live.StoredMessage]) -> list[tuple[int, live.Screening]]:
    """What is judged against the whole run (near-duplicates), a larger batch at a time: for
    reviewers only, so a second later costs nothing and a query serves many messages."""
    authenticity_live.check_across_run((m.conversation_id, m.position) for m in batch)
    return []


# Staff only: a worker's socket, or nobody signed in, is refused.
CLOSE_FORBIDDEN = 4403


class _Batches:
    """Stored messages gathered for `seconds`, then judged together by `work` in one thread
    hop: under load a message costs a fraction of a query. What `work` returns for a
    conversation (a screening with its event and alerts) goes out at once."""

    def __init__(
        self,
        seconds: float,
        work: Callable[[list[live.StoredMessage]], list[tuple[int, live.Screening]]],
    ) -> None:
        self.seconds = seconds
        self.work = in_thread(work)
        self.name = work.__name__
        self.waiting: list[live.StoredMessage] = []
        # The pending batch; a new one is started when none is pending on this loop.
        self.pending: asyncio.Future[None] | None = None

    def add(self, messages: list[live.StoredMessage]) -> None:
        self.waiting += messages
        pending = self.pending
        if self.waiting and (pending is None or pending.done() or _other_loop(pending)):
            self.pending = in_background(self._soon())

    async def _soon(self) -> None:
        """Judge what waits, a window at a time, until nothing is left waiting."""
        while self.waiting:
            await asyncio.sleep(self.seconds)
            batch = self.waiting[:]
            del self.waiting[:]
            await self._judge(batch)

    async def _judge(self, batch: list[live.StoredMessage]) -> None:
        try:
            screened = await self.work(batch)
        except INFRASTRUCTURE_ERRORS:
            logger.warning(
                "%s of %s message(s) failed: a service is unavailable; the quality job judges "
                "them again",
                self.name,
                len(batch),
            )
            return
        except Exception:
            logger.exception("%s of %s message(s) failed", self.name, len(batch))
            return
        for conversation_id, screening in screened:
            await relay_with_retries(conversation_id, [screening.event])
            await tell_staff(screening.alerts)


# Messages stored within BATCH_SECONDS are screened together, in one thread hop and one
# UPDATE of their conversations' counts; the run-wide checks wait longer, for larger batches.
BATCH_SECONDS = 0.05
RUN_WIDE_BATCH_SECONDS = 1.0
_quick = _Batches(BATCH_SECONDS, _after_acknowledgement)
_run_wide = _Batches(RUN_WIDE_BATCH_SECONDS, _across_run)


def screen_later(conversation_id: int, committed: list[dict[str, Any]]) -> None:
    """Screen each newly stored message of `committed` (message events) in the background."""
    stored = [
        live.StoredMessage(
            conversation_id,
            int(event["message"]["seq"]),
            event["message"]["speaker"],
            event["message"]["text"],
        )
        for event in committed
        if event.get("kind") == "message"
    ]
    if stored:
        _quick.add(stored)
        _run_wide.add(stored)


def _other_loop(task: asyncio.Future[None]) -> bool:
    return task.get_loop() is not asyncio.get_running_loop()


async def tell_staff(alerts: list[dict[str, Any]]) -> None:
    """Put each alert on every open staff page; a page that misses one shows it on reload."""
    layer = get_channel_layer()
    if layer is None:
        return
    for alert in alerts:
        try:
            await bounded(
                layer.group_send(live.ALERTS_GROUP, {"type": "safety.alert", "alert": alert})
            )
        except INFRASTRUCTURE_ERRORS:
            logger.warning("could not put a safety alert on the staff pages", exc_info=True)


class SafetyAlertsConsumer(AsyncJsonWebsocketConsumer):
    """A staff page's socket for safety alerts as they happen (static/safety/alerts.js)."""

    joined = False

    async def connect(self) -> None:
        await self.accept()
        user = await get_user(self.scope)
        if not (user.is_authenticated and user.is_active and user.is_staff):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        try:
            await bounded(self.channel_layer.group_add(live.ALERTS_GROUP, self.channel_name))
        except INFRASTRUCTURE_ERRORS:
            logger.warning("a staff page could not join the safety alerts", exc_info=True)
            await self.close(code=4503)
            return
        self.joined = True
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        if self.joined:
            self.joined = False
            try:
                await bounded(
                    self.channel_layer.group_discard(live.ALERTS_GROUP, self.channel_name)
                )
            except INFRASTRUCTURE_ERRORS:
                logger.warning("a staff page could not leave the safety alerts", exc_info=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def safety_alert(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "safety_alert", **message["alert"]})
