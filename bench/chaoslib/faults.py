"""What each phase does to the stack while the pairs chat; each returns the facts it saw.

Each fault waits a quarter of the phase first, so the chat is in full flow when it strikes.
The baseline does no harm: every client closes its own socket once and reconnects, which is
what the faults' reconnect times are compared with.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.chaoslib.client import PageClient
from bench.chaoslib.quality import kill_worker_mid_qc
from bench.chaoslib.stack import (
    Stack,
    kill_hard,
    redis_cli,
    start_asgi,
    start_redis,
    stop_redis,
)
from bench.scratch import admin_connection

ASGI_RESTART_AFTER = 3.0
REDIS_RESTART_AFTER = 2.0
KILLED_SLOT = "a"


@dataclass
class Context:
    stack: Stack
    clients: list[PageClient]
    phase_seconds: float
    qc_conversations: int
    rng: random.Random
    chatting: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def strike_time(self) -> None:
        await asyncio.sleep(self.phase_seconds / 4)


async def plain_reconnects(ctx: Context) -> dict[str, Any]:
    """No fault: every client closes its socket once (spread over a second) and reconnects."""
    await asyncio.sleep(ctx.phase_seconds / 3)
    clients = list(ctx.clients)
    ctx.rng.shuffle(clients)
    for client in clients:
        await client.plain_reconnect()
        await asyncio.sleep(1.0 / len(clients))
    return {"plain_reconnects": len(clients)}


async def kill_asgi(ctx: Context) -> dict[str, Any]:
    """`kill -9` one uvicorn process; start it again on the same port a few seconds later."""
    await ctx.strike_time()
    stack = ctx.stack
    port = stack.asgi_ports[KILLED_SLOT]
    on_it = sum(1 for c in ctx.clients if c.live and c.port == port)
    killed_at = time.monotonic()
    pid, gone = kill_hard(stack.asgi[KILLED_SLOT].process)
    await asyncio.sleep(ASGI_RESTART_AFTER)
    server = start_asgi(stack, KILLED_SLOT)
    await asyncio.to_thread(server.wait_until_ready, "/healthz", timeout=60)
    return {
        "port": port,
        "killed_pid": pid,
        "pid_gone": gone,
        "clients_on_it": on_it,
        "restarted_pid": server.process.pid,
        "down_s": round(time.monotonic() - killed_at, 2),
    }


async def restart_redis(ctx: Context) -> dict[str, Any]:
    """`redis-cli shutdown nosave`, ~2 s without Redis, then redis-server on the same port."""
    await ctx.strike_time()
    stack = ctx.stack
    assert stack.redis is not None
    old = stack.redis.process
    stopped_at = time.monotonic()
    await asyncio.to_thread(stop_redis, stack)
    gone = old.poll() is not None
    await asyncio.sleep(REDIS_RESTART_AFTER)
    server = await asyncio.to_thread(start_redis, stack)
    return {
        "port": stack.redis_port,
        "old_pid": old.pid,
        "old_gone": gone,
        "new_pid": server.process.pid,
        "down_s": round(time.monotonic() - stopped_at, 2),
        "ping": await asyncio.to_thread(redis_cli, stack, "ping"),
    }


def _terminate(stack: Stack) -> list[bool]:
    with admin_connection(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (stack.database_name,),
        ).fetchall()
    return [bool(row[0]) for row in rows]


async def terminate_backends(ctx: Context) -> dict[str, Any]:
    """Terminate every backend of the bench's database (and only of the bench's database)."""
    await ctx.strike_time()
    results = await asyncio.to_thread(_terminate, ctx.stack)
    return {"database": ctx.stack.database_name, "terminated": sum(results)}


async def kill_worker(ctx: Context) -> dict[str, Any]:
    await ctx.strike_time()
    return await kill_worker_mid_qc(ctx.stack, ctx.qc_conversations)


FAULTS = (
    ("baseline", plain_reconnects),
    ("asgi_kill", kill_asgi),
    ("redis_restart", restart_redis),
    ("db_terminate", terminate_backends),
    ("worker_kill", kill_worker),
)
