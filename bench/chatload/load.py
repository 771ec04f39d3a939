"""Every pair at once: connect all the sockets, then chat, then close; timed throughout."""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from dataclasses import dataclass, field

from bench.chatload.clients import PairClient, Transport, chat, open_side, read_frames
from bench.chatload.population import PairSpec
from bench.chatload.processes import cpu_seconds

CONNECT_CONCURRENCY = 64
# After the last delivery, keep listening this long so late duplicates are counted.
GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class LoadPlan:
    """What each pair does: M messages per side, the think time, when feedback is due."""

    messages: int
    think_ms: float
    feedback_every: int
    timeout: float
    seed: int | None


@dataclass
class LoadResult:
    transport: str
    pairs: list[PairClient]
    latencies_ms: list[float]
    connect_s: float
    chat_s: float
    timed_out: bool
    server_cpu_s: float


@dataclass
class _Run:
    transport: Transport
    pairs: list[PairClient]
    deadline: float
    latencies: list[float] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONNECT_CONCURRENCY))

    def remaining(self, floor: float) -> float:
        return max(floor, self.deadline - time.monotonic())


async def _open_pair(run: _Run, pair: PairClient) -> None:
    """Connect both sides (on the real chat, wait for both hellos); a failure fails the pair."""
    try:
        for side in (pair.seeker, pair.supporter):
            await open_side(side, run.transport, run.gate, run.remaining(1.0))
            run.readers.append(asyncio.create_task(read_frames(side, run.latencies)))
        if run.transport.full_protocol:
            for side in (pair.seeker, pair.supporter):
                await asyncio.wait_for(side.hello.wait(), timeout=run.remaining(0.01))
                if side.closed:
                    raise ConnectionError(f"{side.role} was refused before its hello")
    except Exception as exc:
        pair.failed = True
        pair.errors.append(f"pair {pair.spec.index}: could not connect: {exc!r}")


async def _chat_all(run: _Run, plan: LoadPlan, rng: random.Random) -> bool:
    """Every connected pair chats; pairs still chatting at the deadline fail. True on timeout."""
    chats = {
        asyncio.create_task(
            chat(
                pair,
                plan.messages,
                plan.think_ms,
                plan.feedback_every,
                run.transport.full_protocol,
                run.deadline,
                rng,
            )
        ): pair
        for pair in run.pairs
        if not pair.failed
    }
    if not chats:
        return False
    _, pending = await asyncio.wait(chats, timeout=run.remaining(0.01))
    for task in pending:
        task.cancel()
        chats[task].failed = True
        chats[task].errors.append(f"pair {chats[task].spec.index}: --timeout reached")
    await asyncio.gather(*pending, return_exceptions=True)
    return bool(pending)


async def _close_all(run: _Run) -> None:
    await asyncio.sleep(GRACE_SECONDS)
    sides = [side for pair in run.pairs for side in (pair.seeker, pair.supporter)]
    for side in sides:
        side.closing = True
    await asyncio.gather(
        *(side.ws.close() for side in sides if side.ws is not None), return_exceptions=True
    )
    for reader in run.readers:
        reader.cancel()
    await asyncio.gather(*run.readers, return_exceptions=True)


async def run_load(
    transport: Transport,
    specs: list[PairSpec],
    plan: LoadPlan,
    server: subprocess.Popen[bytes] | None,
) -> LoadResult:
    run = _Run(transport, [PairClient(spec) for spec in specs], time.monotonic() + plan.timeout)
    rng = random.Random(plan.seed)

    # Connect every socket first, so the chat phase measures chatting, not a connection storm.
    started = time.perf_counter()
    await asyncio.gather(*(_open_pair(run, pair) for pair in run.pairs))
    connect_s = time.perf_counter() - started

    started = time.perf_counter()
    cpu_before = cpu_seconds(server)
    timed_out = await _chat_all(run, plan, rng)
    chat_s = time.perf_counter() - started
    server_cpu_s = cpu_seconds(server) - cpu_before

    await _close_all(run)
    return LoadResult(
        transport.name, run.pairs, run.latencies, connect_s, chat_s, timed_out, server_cpu_s
    )
