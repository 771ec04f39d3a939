"""The chat load run from start to clean-up (bench/chat_load.py calls main())."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench.chatload.database import cleanup_redis, configure_django, migrate, server_environment
from bench.chatload.load import LoadPlan
from bench.chatload.options import parse_args
from bench.chatload.phases import (
    RelayPhase,
    Resources,
    outcome,
    run_chat_phase,
    run_relay_phase,
)
from bench.chatload.population import PairSpec, create_conversations
from bench.chatload.processes import raise_open_file_limit, stop
from bench.common import close_django_connections, handle_signals, log, run_bench
from bench.scratch import create_database, drop_database, fresh_database_url


def prepare(
    args: argparse.Namespace, res: Resources
) -> tuple[dict[str, str], list[PairSpec], LoadPlan]:
    """A fresh database, migrated, holding the P conversations; the server's environment."""
    res.database_url, res.database_name = fresh_database_url(args.database_url)
    create_database(res.database_url, res.database_name)
    res.database_created = True
    env = server_environment(res.database_url, args.redis_url, args.channel_layer)
    log(f"database {res.database_name}: migrating")
    migrate(env)
    configure_django(env)
    specs, feedback_every = create_conversations(args.pairs)
    res.conversation_ids = [s.conversation_id for s in specs]
    close_django_connections()
    plan = LoadPlan(args.messages, args.think_ms, feedback_every, args.timeout, args.seed)
    return env, specs, plan


def run(args: argparse.Namespace, res: Resources) -> tuple[dict[str, Any], int]:
    """Both phases; the outcome and the exit status (0 when every message arrived once)."""
    env, specs, plan = prepare(args, res)
    chat = run_chat_phase(args, res, env, specs, plan)
    relay = RelayPhase() if args.no_relay else run_relay_phase(res, env, specs, plan, chat)
    return outcome(args, env, chat, relay), 0 if chat.healthy else 1


def clean_up(args: argparse.Namespace, res: Resources) -> None:
    """Stop both servers, drop the database (unless --keep-db), remove the logs."""
    stop(res.server)
    stop(res.relay)
    close_django_connections()
    if res.conversation_ids:
        cleanup_redis(args.redis_url, res.conversation_ids)
    if res.database_created:
        if args.keep_db:
            log(f"kept database {res.database_url}")
        else:
            try:
                drop_database(res.database_url, res.database_name)
            except psycopg.Error as exc:
                log(f"warning: could not drop database {res.database_name}: {exc}")
    for path in (res.server_log, res.relay_log):
        path.unlink(missing_ok=True)
    res.workdir.rmdir()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handle_signals()
    nofile = raise_open_file_limit()
    if nofile < 4 * args.pairs + 64:
        log(f"warning: open-file limit is {nofile}; {4 * args.pairs} sockets are needed")
    res = Resources(workdir=Path(tempfile.mkdtemp(prefix="esc-bench-")))
    return run_bench(lambda: run(args, res), lambda: clean_up(args, res), json_line=args.json)
