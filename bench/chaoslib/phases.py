"""The chat under each phase: chatting, the fault, then a quiet settling time.

Every side writes about one message a second (0.5–1.5 s apart), connected or not, like a
person typing while the page says "reconnecting". A phase chats for --phase-seconds while its
fault strikes (a fault that takes longer, the worker's, is chatted through), then goes quiet:
no new messages, only the pages' pings and resends, until every side is live again with
nothing unacknowledged and every message is on the partner's screen (or --settle-seconds
pass). A message belongs to the phase in which it was written.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench.chaoslib import logs
from bench.chaoslib.client import PageClient
from bench.chaoslib.faults import Context
from bench.chaoslib.ledger import Ledger
from bench.chaoslib.stack import Stack
from bench.chatload.population import PairSpec
from bench.common import log
from crowd import vocabulary

Fault = Callable[[Context], Coroutine[Any, Any, dict[str, Any]]]
# After the last settling time, listen this long for late (duplicate) frames.
LATE_FRAMES_SECONDS = 2.0


@dataclass
class PhaseRun:
    name: str
    started: float
    ended: float
    facts: dict[str, Any]
    settled_s: float | None  # None: not everything arrived within --settle-seconds
    server: logs.LogFigures = field(default_factory=logs.LogFigures)
    worker: logs.LogFigures = field(default_factory=logs.LogFigures)


def make_context(
    stack: Stack, specs: list[PairSpec], ledger: Ledger, args: argparse.Namespace
) -> Context:
    rng = random.Random(args.seed)
    ports = (stack.asgi_ports["a"], stack.asgi_ports["b"])
    clients = [
        # Half the sides start on each server, and the two sides of a pair on different
        # ones: most messages cross from one process to the other through Redis.
        PageClient(spec, role, ports, ledger, random.Random(rng.random()), attempt=spec.index + k)
        for spec in specs
        for k, role in enumerate((vocabulary.SEEKER, vocabulary.SUPPORTER))
    ]
    return Context(stack, clients, args.phase_seconds, args.qc_conversations, rng)


async def talk(ctx: Context, client: PageClient) -> None:
    while not client.finished:
        await asyncio.sleep(ctx.rng.uniform(0.5, 1.5))
        if ctx.chatting:
            await client.compose()


def start_clients(ctx: Context) -> None:
    for client in ctx.clients:
        for job in (client.run(), client.heartbeat(), client.retry_unacknowledged()):
            ctx.tasks.append(asyncio.create_task(job))
        ctx.tasks.append(asyncio.create_task(talk(ctx, client)))


async def stop_clients(ctx: Context) -> None:
    await asyncio.gather(*(c.stop() for c in ctx.clients), return_exceptions=True)
    for task in ctx.tasks:
        task.cancel()
    await asyncio.gather(*ctx.tasks, return_exceptions=True)


def settled(ctx: Context, ledger: Ledger) -> bool:
    live = all(c.live and not c.pending for c in ctx.clients if not c.finished)
    return live and not ledger.undelivered()


async def settle(ctx: Context, ledger: Ledger, timeout: float) -> float | None:
    """Seconds until everything arrived and every side is live again; None if it never did."""
    started = time.monotonic()
    while not settled(ctx, ledger):
        if time.monotonic() - started > timeout:
            return None
        await asyncio.sleep(0.1)
    return round(time.monotonic() - started, 2)


async def connect_all(ctx: Context, timeout: float = 60) -> None:
    start_clients(ctx)
    deadline = time.monotonic() + timeout
    while not all(c.live for c in ctx.clients):
        if time.monotonic() > deadline or any(c.fatal for c in ctx.clients):
            down = sum(1 for c in ctx.clients if not c.live)
            raise ConnectionError(f"{down} of {len(ctx.clients)} sides could not connect")
        await asyncio.sleep(0.1)


async def run_phase(
    ctx: Context, ledger: Ledger, name: str, fault: Fault, settle_seconds: float
) -> PhaseRun:
    stack = ctx.stack
    ledger.phase = name
    mark = logs.marks([*stack.asgi_logs, *stack.worker_logs])
    started = ledger.clock()
    log(f"phase {name}: chatting for {ctx.phase_seconds:.0f} s")
    ctx.chatting = True
    strike = asyncio.create_task(fault(ctx))
    try:
        await asyncio.sleep(ctx.phase_seconds)
        facts = await strike
    except Exception as exc:  # a fault that could not be injected is reported, not hidden
        facts = {"error": repr(exc)}
    finally:
        ctx.chatting = False
    settled_s = await settle(ctx, ledger, settle_seconds)
    run = PhaseRun(name, started, ledger.clock(), facts, settled_s)
    run.server = logs.scan(logs.since(stack.asgi_logs, mark))
    run.worker = logs.scan(logs.since(stack.worker_logs, mark))
    return run


async def rebalance(ctx: Context, ledger: Ledger, settle_seconds: float) -> int:
    """Sides that fled a killed server go back to their own (a balancer spreading load again).

    Otherwise every later fault would meet one server only, and no message would cross
    between the two processes through Redis. Not counted in any phase.
    """
    ledger.phase = "rebalance"
    away = [c for c in ctx.clients if c.live and c.port != c.home_port]
    for client in away:
        await client.plain_reconnect()
    await settle(ctx, ledger, settle_seconds)
    return len(away)


async def run_phases(
    ctx: Context, ledger: Ledger, faults: tuple[tuple[str, Fault], ...], settle_seconds: float
) -> list[PhaseRun]:
    """Connect every side, run each phase in turn, then wait out the last messages."""
    runs: list[PhaseRun] = []
    try:
        await connect_all(ctx)
        for name, fault in faults:
            if runs and (moved := await rebalance(ctx, ledger, settle_seconds)):
                log(f"  {moved} sides went back to their own server")
            runs.append(await run_phase(ctx, ledger, name, fault, settle_seconds))
        ledger.phase = "drain"
        await settle(ctx, ledger, settle_seconds)
        await asyncio.sleep(LATE_FRAMES_SECONDS)
    finally:
        await stop_clients(ctx)
    return runs
