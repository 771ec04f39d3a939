"""One side of a chat, behaving like the chat page (static/chat/room.js), not like a test.

Like the page it connects to /ws/chat/<id>/?after=<last seq shown>&heartbeat=1 with the
worker's session cookie, pings every 5 s and drops a socket that said nothing for two
heartbeats, keeps every message until it is acknowledged (or echoed) and sends all of them
again after each `hello` and every ~4 s while unacknowledged (same id), treats a retryable
`error` as "later", shows each `message` once per seq, and reconnects with a doubling backoff
on any close but 4401/4403/4404/4409. Unlike one browser tab it alternates between the two
server ports on every attempt, as a load balancer in front would.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.protocol import State
from websockets.typing import Origin

from bench.chaoslib.ledger import Ledger
from bench.chatload.clients import SEEKER_LINES, SUPPORTER_LINES
from bench.chatload.population import PairSpec
from crowd import vocabulary

HEARTBEAT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 4.0
BACKOFF_START = 0.5
BACKOFF_CAP = 15.0
FATAL_CLOSES = frozenset({4401, 4403, 4404})
CLOSE_ENDED = 4409
ORIGIN = Origin("http://127.0.0.1")


@dataclass
class PageClient:
    spec: PairSpec
    role: str
    ports: tuple[int, int]
    ledger: Ledger
    rng: random.Random
    attempt: int = 0  # connection attempts so far: the port alternates with it
    port: int = 0
    ws: ClientConnection | None = None
    live: bool = False  # the current socket has had its hello
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # oldest first
    sent_at: dict[str, float] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    last_seq: int = 0
    backoff: float = BACKOFF_START
    heard_at: float = 0.0
    dialled_at: float = 0.0  # when the current connection attempt started
    down_since: float | None = None
    composed: int = 0
    stopping: bool = False
    fatal: bool = False
    ended: bool = False
    history: list[tuple[float, str]] = field(default_factory=list)
    home: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.home = self.attempt

    @property
    def conversation_id(self) -> int:
        return self.spec.conversation_id

    @property
    def home_port(self) -> int:
        """The server this side started on; reconnects alternate away from it and back."""
        return self.ports[self.home % 2]

    @property
    def finished(self) -> bool:
        return self.stopping or self.fatal or self.ended

    @property
    def is_open(self) -> bool:
        return self.ws is not None and self.ws.state is State.OPEN

    def note(self, what: str) -> None:
        self.history.append((self.ledger.clock(), what))

    def url(self) -> str:
        query = f"after={self.last_seq}&heartbeat=1"
        return f"ws://127.0.0.1:{self.port}/ws/chat/{self.conversation_id}/?{query}"

    def cookie(self) -> str:
        seeker = self.role == vocabulary.SEEKER
        key = self.spec.seeker_session if seeker else self.spec.supporter_session
        return f"sessionid={key}"

    # --- the connection ------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, read until the socket closes, back off, again; until stopped."""
        while not self.finished:
            self.port = self.ports[self.attempt % 2]
            self.attempt += 1
            self.heard_at = self.dialled_at = time.monotonic()
            try:
                ws = await connect(
                    self.url(),
                    origin=Origin(f"{ORIGIN}:{self.port}"),  # the server's own origin
                    additional_headers={"Cookie": self.cookie()},
                    open_timeout=3 * HEARTBEAT_SECONDS,
                    ping_interval=None,
                    close_timeout=2,
                    max_queue=None,
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.ledger.now_stats.connect_failures += 1
                self.note(f"connect to :{self.port} failed: {exc!r:.120}")
                self.lost()
            else:
                await self.read(ws)
            if not self.finished:
                await self.wait_backoff()

    async def wait_backoff(self) -> None:
        delay = min(self.backoff, BACKOFF_CAP) * (0.75 + self.rng.random() * 0.5)
        self.backoff *= 2
        await asyncio.sleep(delay)

    def lost(self) -> None:
        if self.down_since is None and not self.stopping:
            self.down_since = time.monotonic()

    async def read(self, ws: ClientConnection) -> None:
        self.ws, self.live = ws, False
        self.note(f"open :{self.port} after={self.last_seq}")
        try:
            async for raw in ws:
                self.heard_at = time.monotonic()
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(frame, dict):
                    await self.handle(frame)
        except ConnectionClosed:
            pass
        self.ws, self.live = None, False
        code = ws.close_code
        if self.stopping:
            return
        self.ledger.now_stats.closes[str(code)] += 1
        self.note(f"closed :{self.port} code {code} {ws.close_reason or ''}".rstrip())
        self.fatal = code in FATAL_CLOSES
        self.ended = self.ended or code == CLOSE_ENDED
        self.lost()

    async def plain_reconnect(self) -> None:
        """Close the socket from this side (a page reload, a network blip): no fault at all."""
        if self.ws is not None:
            self.down_since = time.monotonic()
            self.note("plain reconnect")
            await self.ws.close()

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()

    # --- frames from the server ------------------------------------------------------------

    async def handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "hello":
            await self.on_hello()
        elif kind == "message":
            self.on_message(frame)
        elif kind == "ack":
            client_id = str(frame.get("id"))
            self.forget(client_id)
            self.ledger.acked(self.conversation_id, client_id, frame.get("seq"))
        elif kind == "error":
            self.on_error(frame)
        elif kind == "ended":
            self.ended = True
            self.note(f"ended: {frame.get('reason')}")

    async def on_hello(self) -> None:
        self.live = True
        self.backoff = BACKOFF_START
        if self.down_since is not None:
            now = time.monotonic()
            self.ledger.now_stats.reconnect_s.append(now - self.down_since)
            self.ledger.now_stats.hello_s.append(now - self.dialled_at)
            self.down_since = None
        self.note(f"hello :{self.port}")
        # The hello and replay come first; resend what the server may not have stored yet.
        for client_id, frame in list(self.pending.items()):
            await self.send_message(client_id, frame)

    def on_message(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if not isinstance(seq, int):
            return
        if seq in self.seen:
            self.ledger.now_stats.redundant_frames += 1
            return
        self.seen.add(seq)
        self.last_seq = max(self.last_seq, seq)
        client_id = str(frame.get("id"))
        if frame.get("speaker") == self.role:
            self.forget(client_id)  # our own echo: stored, so no longer pending
            self.ledger.echoed(self.conversation_id, client_id)
        else:
            self.ledger.shown(self.conversation_id, client_id, seq)

    def on_error(self, frame: dict[str, Any]) -> None:
        ref = frame.get("ref")
        if frame.get("retryable"):
            # Stored or not, the same id goes again shortly; the server keeps it once.
            self.ledger.retryable(self.conversation_id, ref)
            return
        code = str(frame.get("code"))
        self.ledger.now_stats.other_errors[code] += 1
        if isinstance(ref, str) and ref in self.pending:
            self.forget(ref)
            self.ledger.refused(self.conversation_id, ref, code)
            self.note(f"refused {ref}: {code}")

    def forget(self, client_id: str) -> None:
        self.pending.pop(client_id, None)
        self.sent_at.pop(client_id, None)

    # --- what the page sends ------------------------------------------------------------------

    async def send_frame(self, frame: dict[str, Any]) -> bool:
        ws = self.ws
        if ws is None or ws.state is not State.OPEN:
            return False
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed:
            return False
        return True

    async def send_message(self, client_id: str, frame: dict[str, Any]) -> None:
        if self.is_open:
            self.sent_at[client_id] = time.monotonic()
            self.ledger.attempted(self.conversation_id, client_id)
            await self.send_frame(frame)

    async def compose(self) -> None:
        """The worker types a message and presses Enter, connected or not."""
        index = self.composed
        self.composed += 1
        client_id = f"{self.role[:2]}-{self.conversation_id}-{index}"
        turn = self.spec.index + index
        frame: dict[str, Any] = {"type": "message", "id": client_id}
        if self.role == vocabulary.SEEKER:
            frame["text"] = SEEKER_LINES[turn % len(SEEKER_LINES)]
        else:
            frame["text"] = SUPPORTER_LINES[turn % len(SUPPORTER_LINES)]
            frame["strategy"] = vocabulary.STRATEGY_NAMES[turn % len(vocabulary.STRATEGY_NAMES)]
        self.pending[client_id] = frame
        self.ledger.composed(self.conversation_id, client_id, self.role)
        await self.send_message(client_id, frame)

    async def heartbeat(self) -> None:
        """Ping every 5 s; a socket silent for two heartbeats is dead even if it looks open."""
        await asyncio.sleep(self.rng.uniform(0, HEARTBEAT_SECONDS))
        while not self.finished:
            ws = self.ws
            if ws is not None and ws.state is State.OPEN:
                if time.monotonic() - self.heard_at > 2 * HEARTBEAT_SECONDS + 1:
                    self.note(f"heartbeat lost on :{self.port}")
                    ws.transport.abort()
                else:
                    await self.send_frame({"type": "ping"})
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def retry_unacknowledged(self) -> None:
        while not self.finished:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for client_id, frame in list(self.pending.items()):
                if now - self.sent_at.get(client_id, 0.0) >= RETRY_AFTER_SECONDS:
                    await self.send_message(client_id, frame)
