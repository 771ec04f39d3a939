"""The chaos run from start to clean-up (bench/chaos.py calls main())."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.chaoslib import report
from bench.chaoslib.faults import FAULTS
from bench.chaoslib.ledger import Ledger
from bench.chaoslib.options import parse_args
from bench.chaoslib.phases import PhaseRun, make_context, run_phases
from bench.chaoslib.quality import chunk_size, import_conversations
from bench.chaoslib.stack import (
    CHAT_SYNC_SECONDS,
    SLOTS,
    Stack,
    configure_django,
    create_bench_database,
    manage,
    server_environment,
    start_asgi,
    start_redis,
    start_worker,
)
from bench.chatload.population import PairSpec, create_conversations, stored_messages
from bench.chatload.processes import raise_open_file_limit
from bench.common import close_django_connections, handle_signals, log, run_bench


def set_up(args: argparse.Namespace, stack: Stack) -> list[PairSpec]:
    """The stack, the database (migrated, the tutorial, the judging work) and the pairs."""
    started = time.monotonic()
    create_bench_database(stack, args.postgres)
    start_redis(stack)
    stack.env = server_environment(stack)
    log(f"database {stack.database_name}, redis :{stack.redis_port}: migrating")
    manage(stack, "migrate", "--noinput")
    manage(stack, "load_tutorial")
    log(import_conversations(stack, args.qc_conversations).strip())
    configure_django(stack)
    specs, _ = create_conversations(args.pairs)
    close_django_connections()
    for slot in SLOTS:
        start_asgi(stack, slot)
    start_worker(stack, chunk_size(args.qc_conversations))
    for server in stack.asgi.values():
        server.wait_until_ready("/healthz", timeout=60)
    ports = ", ".join(f":{p}" for p in stack.asgi_ports.values())
    log(
        f"stack up in {time.monotonic() - started:.1f} s: uvicorn {ports}, Celery worker "
        f"(queue {stack.queue}), CHAT_SYNC_SECONDS={CHAT_SYNC_SECONDS}; {args.pairs} pairs"
    )
    return specs


async def chat_through_faults(
    args: argparse.Namespace, stack: Stack, specs: list[PairSpec], ledger: Ledger
) -> tuple[list[PhaseRun], Any]:
    ctx = make_context(stack, specs, ledger, args)
    runs = await run_phases(ctx, ledger, FAULTS, args.settle_seconds)
    return runs, ctx.clients


def utterance_positions(keys: list[tuple[int, str]]) -> dict[tuple[int, str], list[int]]:
    from chat.models import Utterance

    found: dict[tuple[int, str], list[int]] = {}
    for conv, client_id in keys:
        rows = Utterance.objects.filter(conversation_id=conv, client_message_id=client_id)
        found[(conv, client_id)] = sorted(rows.values_list("position", flat=True))
    return found


def run(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    specs = set_up(args, stack)
    ledger = Ledger()
    runs, clients = asyncio.run(chat_through_faults(args, stack, specs, ledger))
    stored = stored_messages(s.conversation_id for s in specs)
    result = report.outcome(args, ledger, runs, clients, stored)
    report.print_outcome(result)
    problems = [m for m in ledger.messages.values() if m.shown != 1]
    if problems:
        log(f"{len(problems)} messages not shown exactly once; the first ones:")
        positions = utterance_positions([(m.conversation_id, m.client_id) for m in problems])
        for line in report.explain(problems, clients, positions):
            log(f"  {line}")
    close_django_connections()
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handle_signals()
    raise_open_file_limit()
    stack = Stack(logs=Path(tempfile.mkdtemp(prefix="esc-chaos-")), keep_logs=args.keep)
    atexit.register(stack.close)

    def run_once() -> tuple[dict[str, Any], int]:
        result = run(args, stack)
        return result, 0 if result["ok"] else 1

    def clean_up() -> None:
        close_django_connections()
        stack.close()

    return run_bench(run_once, clean_up, json_line=args.json, setup_errors=(ConnectionError,))
