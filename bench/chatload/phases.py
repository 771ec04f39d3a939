"""The two measured phases: the ESC chat (server, database, checks) and the bare relay baseline."""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chatload.clients import Transport
from bench.chatload.load import LoadPlan, LoadResult, run_load
from bench.chatload.population import PairSpec, stored_messages
from bench.chatload.processes import start_chat_server, start_relay
from bench.chatload.report import Check, check, compare, describe, server_problems, summarize
from bench.common import close_django_connections, log
from devtools.server import ServerProcess


@dataclass
class Resources:
    """Everything the run creates, so that clean-up removes exactly that."""

    workdir: Path
    database_url: str = ""
    database_name: str = ""
    database_created: bool = False
    server: ServerProcess | None = None
    relay: ServerProcess | None = None
    conversation_ids: list[int] = field(default_factory=list)

    @property
    def server_log(self) -> Path:
        return self.workdir / "server.log"

    @property
    def relay_log(self) -> Path:
        return self.workdir / "relay.log"


@dataclass
class ChatPhase:
    result: LoadResult
    checked: Check
    figures: dict[str, float]
    load_avg: tuple[float, float]  # the 1-minute load average before and after
    server_errors: int

    @property
    def healthy(self) -> bool:
        return self.checked.healthy and not self.result.timed_out


@dataclass
class RelayPhase:
    checked: Check | None = None
    figures: dict[str, float] = field(default_factory=dict)


def run_chat_phase(
    args: argparse.Namespace,
    res: Resources,
    env: dict[str, str],
    specs: list[PairSpec],
    plan: LoadPlan,
) -> ChatPhase:
    res.server = start_chat_server(env, res.server_log, args.workers)
    log(
        f"ESC chat server on 127.0.0.1:{res.server.port}, {args.workers} process(es) "
        f"({args.channel_layer} channel layer, "
        f"{args.redis_url}); {args.pairs} pairs × {args.messages} messages per side, "
        f"think {args.think_ms:.0f} ms"
    )
    transport = Transport("ESC chat", res.server.port, full_protocol=True)
    # Other work on the machine shares the cores: record how busy it was around the run.
    load_before = os.getloadavg()[0]
    result = asyncio.run(run_load(transport, specs, plan, res.server.process))
    load_after = os.getloadavg()[0]
    res.server.stop()
    stored = stored_messages(res.conversation_ids)
    close_django_connections()
    checked = check(result, stored)
    figures = summarize(result, checked)
    describe("ESC chat", result, checked, figures)
    log(
        f"  1-minute load average {load_before:.2f} before, {load_after:.2f} after "
        f"({os.cpu_count()} cores); DJANGO_CONN_MAX_AGE={env.get('DJANGO_CONN_MAX_AGE', '0')}"
    )
    n_server_errors, error_summary = server_problems(res.server_log)
    if n_server_errors:
        log(f"  server log: {n_server_errors} error lines")
        for line in error_summary:
            log(f"    {line}")
    return ChatPhase(result, checked, figures, (load_before, load_after), n_server_errors)


def run_relay_phase(
    res: Resources,
    env: dict[str, str],
    specs: list[PairSpec],
    plan: LoadPlan,
    chat: ChatPhase,
) -> RelayPhase:
    """The same pairs and messages through bench/relay.py: no Django, no database."""
    res.relay = start_relay(env, res.relay_log)
    transport = Transport("bare relay", res.relay.port, full_protocol=False)
    result = asyncio.run(run_load(transport, specs, plan, res.relay.process))
    res.relay.stop()
    checked = check(result, None)
    figures = summarize(result, checked)
    describe("bare websockets relay", result, checked, figures)
    compare(chat.figures, figures)
    return RelayPhase(checked, figures)


def outcome(
    args: argparse.Namespace, env: dict[str, str], chat: ChatPhase, relay: RelayPhase
) -> dict[str, Any]:
    """The JSON line: the headline figures first (tests and README rely on their order)."""
    figures, checked = chat.figures, chat.checked
    return {
        "pairs": args.pairs,
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "msgs_per_s": figures["msgs_per_s"],
        "lost": checked.lost,
        "duplicated": checked.duplicated,
        "relay_p50_ms": relay.figures.get("p50_ms"),
        "relay_p99_ms": relay.figures.get("p99_ms"),
        "relay_msgs_per_s": relay.figures.get("msgs_per_s"),
        "messages_per_side": args.messages,
        "think_ms": args.think_ms,
        "channel_layer": args.channel_layer,
        "workers": args.workers,
        **_chat_details(chat),
        "relay_cpu_ms_per_msg": relay.figures.get("cpu_ms_per_msg"),
        "conn_max_age": env.get("DJANGO_CONN_MAX_AGE", "0"),
        "load_avg_1m": [round(chat.load_avg[0], 2), round(chat.load_avg[1], 2)],
        "relay_lost": relay.checked.lost if relay.checked else None,
        "relay_duplicated": relay.checked.duplicated if relay.checked else None,
    }


def _chat_details(chat: ChatPhase) -> dict[str, Any]:
    figures, checked, result = chat.figures, chat.checked, chat.result
    return {
        "sent": checked.sent,
        "delivered": checked.delivered,
        "p90_ms": figures["p90_ms"],
        "max_ms": figures["max_ms"],
        "lost_delivery": len(checked.lost_delivery),
        "lost_db": len(checked.lost_db),
        "duplicated_delivery": len(checked.duplicated_delivery),
        "duplicated_db": len(checked.duplicated_db),
        "unexpected": checked.unexpected,
        "echo_missing": checked.echo_missing,
        "echo_duplicated": checked.echo_duplicated,
        "missing_acks": checked.missing_acks,
        "failed_pairs": checked.failed_pairs,
        "errors": len(checked.errors),
        "server_errors": chat.server_errors,
        "timed_out": result.timed_out,
        "connect_s": round(result.connect_s, 2),
        "chat_s": round(result.chat_s, 2),
        "cpu_ms_per_msg": figures["cpu_ms_per_msg"],
    }
