"""The two websocket clients of each pair and the chat they hold, as workers would."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bench.chatload.population import PairSpec
from crowd import vocabulary
from rehearsal import script

# Put in a side's queues when its connection is gone.
CLOSED = -1

# The lines are the rehearsal's (rehearsal/script.py); the chaos bench imports them from here.
SEEKER_LINES = script.SEEKER_LINES
SUPPORTER_LINES = script.SUPPORTER_LINES
in_own_words = script.in_own_words


@dataclass
class Side:
    """One websocket client: what it sent and everything it received."""

    role: str
    pair: PairClient
    ws: ClientConnection | None = None
    sent: list[str] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)  # the partner's messages, by id
    echoes: Counter[str] = field(default_factory=Counter)  # our own messages relayed back
    acks: dict[str, int] = field(default_factory=dict)
    hello: asyncio.Event = field(default_factory=asyncio.Event)
    feedback_requests: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    feedback_acks: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    other_frames: Counter[str] = field(default_factory=Counter)
    closing: bool = False  # we are closing it: a close is no error
    closed: bool = False  # the connection is gone: nothing more will arrive


@dataclass
class PairClient:
    spec: PairSpec
    sent_at: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed: bool = False
    seeker: Side = field(init=False)
    supporter: Side = field(init=False)

    def __post_init__(self) -> None:
        self.seeker = Side(vocabulary.SEEKER, self)
        self.supporter = Side(vocabulary.SUPPORTER, self)

    def partner(self, side: Side) -> Side:
        return self.supporter if side is self.seeker else self.seeker


@dataclass
class Transport:
    """How to reach a conversation: the real chat (full protocol) or the bare relay."""

    name: str
    port: int
    full_protocol: bool

    def url(self, spec: PairSpec) -> str:
        if self.full_protocol:
            return f"ws://127.0.0.1:{self.port}/ws/chat/{spec.conversation_id}/?after=0"
        return f"ws://127.0.0.1:{self.port}/room/{spec.conversation_id}/"

    def headers(self, spec: PairSpec, role: str) -> dict[str, str]:
        if not self.full_protocol:
            return {}
        key = spec.seeker_session if role == vocabulary.SEEKER else spec.supporter_session
        return {"Cookie": f"sessionid={key}"}


def on_message(side: Side, frame: dict[str, Any], now: float, latencies: list[float]) -> None:
    """A relayed message: our own echo, or the partner's (timed, and its sender woken)."""
    pair = side.pair
    client_id = str(frame.get("id"))
    if client_id in pair.sent_at and client_id in side.sent:
        side.echoes[client_id] += 1
        return
    side.received[client_id] += 1
    if side.received[client_id] == 1 and client_id in pair.sent_at:
        latencies.append((now - pair.sent_at[client_id]) * 1000)
    waiter = pair.delivered.get(client_id)
    if waiter is not None and not waiter.done():
        waiter.set_result(now)


def on_frame(side: Side, frame: Any, now: float, latencies: list[float]) -> None:
    """Record one decoded frame the server sent to this side."""
    pair = side.pair
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind == "message":
        on_message(side, frame, now, latencies)
    elif kind == "ack":
        side.acks[str(frame.get("id"))] = int(frame.get("seq", 0))
    elif kind == "hello":
        side.hello.set()
    elif kind == "feedback_request":
        side.feedback_requests.put_nowait(int(frame["prompt"]))
    elif kind == "feedback_ack":
        side.feedback_acks.put_nowait(int(frame["prompt"]))
    elif kind == "error":
        pair.errors.append(
            f"{side.role}: error {frame.get('code')}: {frame.get('message')}"
            f" (ref {frame.get('ref')})"
        )
    elif kind == "ended":
        pair.errors.append(f"{side.role}: conversation ended: {frame.get('reason')}")
    else:
        side.other_frames[str(kind)] += 1


def on_closed(side: Side, closed: str) -> None:
    """The connection is gone; unless we closed it, fail whoever waits on this side now."""
    pair = side.pair
    side.closed = True
    if side.closing:
        return
    pair.errors.append(f"{side.role}: {closed}")
    # Wake whoever waits on this side, so a refused or dropped socket fails its pair now
    # rather than at --timeout.
    for waiter in pair.delivered.values():
        if not waiter.done():
            waiter.set_exception(ConnectionError(f"{side.role} connection closed"))
    side.hello.set()
    side.feedback_requests.put_nowait(CLOSED)
    side.feedback_acks.put_nowait(CLOSED)


async def read_frames(side: Side, latencies: list[float]) -> None:
    """Record every frame a side receives; resolve the sender's wait when a message arrives."""
    assert side.ws is not None
    try:
        async for raw in side.ws:
            now = time.perf_counter()
            try:
                frame = json.loads(raw)
            except ValueError:
                side.pair.errors.append(f"{side.role}: frame is not JSON: {raw!r:.200}")
                continue
            on_frame(side, frame, now, latencies)
    except ConnectionClosed as exc:
        closed = f"connection closed by the server: {exc}"
    else:
        closed = "connection closed by the server"
    on_closed(side, closed)


async def open_side(
    side: Side, transport: Transport, gate: asyncio.Semaphore, timeout: float
) -> None:
    spec = side.pair.spec
    async with gate:
        side.ws = await connect(
            transport.url(spec),
            origin=Origin(f"http://127.0.0.1:{transport.port}"),
            additional_headers=transport.headers(spec, side.role),
            open_timeout=timeout,
            # The server pings; client pings would only add traffic to the measurement.
            ping_interval=None,
            close_timeout=2,
            max_queue=None,
        )


def think(think_ms: float, rng: random.Random) -> float:
    return think_ms * rng.uniform(0.5, 1.5) / 1000 if think_ms > 0 else 0.0


def message_frame(side: Side, index: int) -> dict[str, Any]:
    """Message `index` of this side: a line of its script (and a strategy for the supporter)."""
    spec = side.pair.spec
    client_id = f"p{spec.index}-{side.role}-{index}"
    turn = spec.index + index
    if side.role == vocabulary.SEEKER:
        text = in_own_words(SEEKER_LINES[turn % len(SEEKER_LINES)], client_id)
        return {"type": "message", "id": client_id, "text": text}
    return {
        "type": "message",
        "id": client_id,
        "text": in_own_words(SUPPORTER_LINES[turn % len(SUPPORTER_LINES)], client_id),
        "strategy": vocabulary.STRATEGY_NAMES[turn % len(vocabulary.STRATEGY_NAMES)],
    }


async def send_message(side: Side, index: int, deadline: float) -> None:
    """Send message `index` of this side and wait until the partner receives it."""
    pair = side.pair
    assert side.ws is not None
    frame = message_frame(side, index)
    client_id = frame["id"]
    waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    pair.delivered[client_id] = waiter
    side.sent.append(client_id)
    pair.sent_at[client_id] = time.perf_counter()
    await side.ws.send(json.dumps(frame))
    try:
        await asyncio.wait_for(waiter, timeout=max(0.01, deadline - time.monotonic()))
    except TimeoutError:
        raise TimeoutError(f"{client_id} not delivered to the partner in time") from None


async def answer_feedback(side: Side, score: int, deadline: float) -> None:
    assert side.ws is not None
    remaining = max(0.01, deadline - time.monotonic())
    try:
        prompt = await asyncio.wait_for(side.feedback_requests.get(), timeout=remaining)
    except TimeoutError:
        raise TimeoutError("no feedback_request arrived when one was due") from None
    if prompt == CLOSED:
        raise ConnectionError(f"{side.role} connection closed")
    await side.ws.send(json.dumps({"type": "feedback", "prompt": prompt, "score": score}))
    try:
        if await asyncio.wait_for(side.feedback_acks.get(), timeout=remaining) == CLOSED:
            raise ConnectionError(f"{side.role} connection closed")
    except TimeoutError:
        raise TimeoutError(f"feedback for prompt {prompt} was not acknowledged") from None


async def chat(
    pair: PairClient,
    messages: int,
    think_ms: float,
    feedback_every: int,
    full_protocol: bool,
    deadline: float,
    rng: random.Random,
) -> None:
    """Alternate seeker and supporter, M messages each; the seeker answers every prompt."""
    supporter_sent = 0
    try:
        for index in range(messages):
            if full_protocol and supporter_sent and supporter_sent % feedback_every == 0:
                await asyncio.sleep(think(think_ms, rng))
                await answer_feedback(pair.seeker, 1 + (pair.spec.index + index) % 5, deadline)
            await asyncio.sleep(think(think_ms, rng))
            await send_message(pair.seeker, index, deadline)
            await asyncio.sleep(think(think_ms, rng))
            await send_message(pair.supporter, index, deadline)
            supporter_sent += 1
        if full_protocol and supporter_sent % feedback_every == 0:
            await answer_feedback(pair.seeker, 5, deadline)
    except (TimeoutError, ConnectionError, ConnectionClosed) as exc:
        pair.failed = True
        pair.errors.append(f"pair {pair.spec.index}: {exc}")
