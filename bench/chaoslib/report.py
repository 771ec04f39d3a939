"""The figures of a chaos run: per phase from the database and the clients, printed and as JSON.

- stored once / never / twice: `Utterance` rows with the message's client id, in its
  conversation (the database's own count);
- shown 0 / 1 / 2+: under how many distinct seqs the partner's page rendered it (the page
  shows a seq once; a message stored twice would be shown twice);
- lost_from_view: shown 0 times at the end; duplicated_on_screen: shown 2+ times.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from bench.chaoslib.client import PageClient
from bench.chaoslib.ledger import Ledger, Message
from bench.chaoslib.phases import PhaseRun
from bench.chatload.report import percentile
from bench.common import log

Stored = Counter[tuple[int, str | None]]
MAX_EXPLAINED = 10


def _seconds(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "max": None}
    return {"p50": round(percentile(values, 50), 2), "max": round(max(values), 2)}


def message_figures(messages: list[Message], stored: Stored) -> dict[str, Any]:
    rows = [stored[(m.conversation_id, m.client_id)] for m in messages]
    delivery = [m.shown_at - m.composed_at for m in messages if m.shown_at is not None]
    return {
        "sent": len(messages),
        "stored_once": rows.count(1),
        "never_stored": rows.count(0),
        "stored_twice": sum(1 for n in rows if n > 1),
        "shown_0": sum(1 for m in messages if m.shown == 0),
        "shown_1": sum(1 for m in messages if m.shown == 1),
        "shown_2plus": sum(1 for m in messages if m.shown > 1),
        "refused": sum(1 for m in messages if m.refused is not None),
        "unacked": sum(1 for m in messages if m.acked_seq is None and not m.echoed),
        "delivery_s": _seconds(delivery),
    }


def happened(run: PhaseRun, sides: int) -> bool:
    """Whether the phase's fault (or plain reconnect) really took place."""
    f = run.facts
    checks = {
        "baseline": f.get("plain_reconnects") == sides,
        "asgi_kill": f.get("pid_gone") and f.get("restarted_pid") != f.get("killed_pid"),
        "redis_restart": f.get("old_gone") and f.get("new_pid") != f.get("old_pid"),
        "db_terminate": (f.get("terminated") or 0) > 0,
        "worker_kill": f.get("mid_run") and f.get("pid_gone"),
    }
    return bool(checks.get(run.name) and f.get("ping", "PONG") == "PONG")


def phase_figures(run: PhaseRun, ledger: Ledger, stored: Stored, sides: int) -> dict[str, Any]:
    stats = ledger.stats[run.name]
    mine = [m for m in ledger.messages.values() if m.phase == run.name]
    return {
        **message_figures(mine, stored),
        "reconnects": len(stats.reconnect_s),
        "reconnect_s": _seconds(stats.reconnect_s),
        "hello_s": _seconds(stats.hello_s),
        "closes": dict(stats.closes),
        "connect_failures": stats.connect_failures,
        "retryable_errors": stats.retryable_errors,
        "other_errors": dict(stats.other_errors),
        "resends": stats.resends,
        "redundant_frames": stats.redundant_frames,
        "settled_s": run.settled_s,
        "seconds": round(run.ended - run.started, 1),
        "server": run.server.as_dict(),
        "worker": run.worker.as_dict(),
        "fault": run.facts,
        "happened": happened(run, sides),
    }


def _show_s(values: dict[str, float | None]) -> str:
    if values["p50"] is None:
        return "none"
    return f"p50 {values['p50']:.2f} s, max {values['max']:.2f} s"


def print_phase(name: str, fig: dict[str, Any], base: dict[str, Any] | None) -> None:
    def beside(text: str) -> str:
        return f" (baseline {text})" if base is not None else ""

    log(f"{name}: {'happened' if fig['happened'] else 'DID NOT HAPPEN'}; {fig['fault']}")
    log(
        f"  sent {fig['sent']}{beside(str(base['sent'])) if base else ''}: stored once "
        f"{fig['stored_once']}, never {fig['never_stored']}, twice {fig['stored_twice']}; "
        f"shown to the partner 0×: {fig['shown_0']}, 1×: {fig['shown_1']}, "
        f"2+×: {fig['shown_2plus']}; refused {fig['refused']}"
    )
    log(
        f"  reconnects {fig['reconnects']}: {_show_s(fig['reconnect_s'])}"
        f"{beside(_show_s(base['reconnect_s'])) if base else ''}, of which dial to hello "
        f"{_show_s(fig['hello_s'])}{beside(_show_s(base['hello_s'])) if base else ''}; delivery "
        f"{_show_s(fig['delivery_s'])}{beside(_show_s(base['delivery_s'])) if base else ''}"
    )
    settled = "never" if fig["settled_s"] is None else f"{fig['settled_s']:.1f} s"
    log(
        f"  closes {fig['closes']}, connect failures {fig['connect_failures']}, retryable "
        f"errors {fig['retryable_errors']}, resends {fig['resends']}, redundant frames "
        f"{fig['redundant_frames']}; settled after {settled}"
    )
    server = fig["server"]
    log(f"  server tracebacks {server['tracebacks']} (unhandled {server['unhandled']})")
    for kind, n in server["kinds"].items():
        log(f"    {n}× {kind}")
    if fig["worker"]["tracebacks"]:
        log(f"  worker tracebacks {fig['worker']['tracebacks']}: {fig['worker']['kinds']}")


def explain(
    problems: list[Message], clients: list[PageClient], positions: dict[Any, list[int]]
) -> list[str]:
    """How each lost or duplicated message went: the phase, the seqs, the partner's socket."""
    sides = {(c.conversation_id, c.role): c for c in clients}
    lines = []
    for m in problems[:MAX_EXPLAINED]:
        partner = next(
            c for (conv, role), c in sides.items() if conv == m.conversation_id and role != m.author
        )
        stored = positions.get((m.conversation_id, m.client_id), [])
        lines.append(
            f"{m.client_id} ({m.author}, phase {m.phase}, written at {m.composed_at:.1f} s): "
            f"stored at seq {stored}, acked seq {m.acked_seq}, sent {m.attempts}×, "
            f"retryable errors {m.retryable_errors}, shown under seqs {m.shown_seqs}; the "
            f"partner's last seq {partner.last_seq}, has seq: {[s in partner.seen for s in stored]}"
        )
        window = [h for h in partner.history if m.composed_at - 5 <= h[0] <= m.composed_at + 30]
        lines.extend(f"    partner {t:.1f} s: {what}" for t, what in window[:12])
    return lines


def outcome(
    args: argparse.Namespace,
    ledger: Ledger,
    runs: list[PhaseRun],
    clients: list[PageClient],
    stored: Stored,
) -> dict[str, Any]:
    sides = len(clients)
    phases = {run.name: phase_figures(run, ledger, stored, sides) for run in runs}
    totals = message_figures(list(ledger.messages.values()), stored)
    worker = next((r.facts for r in runs if r.name == "worker_kill"), {})
    result: dict[str, Any] = {
        "pairs": args.pairs,
        "phase_seconds": args.phase_seconds,
        "lost_from_view": totals["shown_0"],
        "duplicated_on_screen": totals["shown_2plus"],
        "sent": totals["sent"],
        "never_stored": totals["never_stored"],
        "stored_twice": totals["stored_twice"],
        "unexpected_frames": ledger.unexpected,
        "server_tracebacks": sum(r.server.tracebacks for r in runs),
        "server_unhandled": sum(r.server.unhandled for r in runs),
        "faults_happened": all(p["happened"] for p in phases.values()) and len(runs) == 5,
        "qc_ok": bool(worker.get("ok")),
        "phases": phases,
    }
    result["ok"] = (
        result["lost_from_view"] == 0
        and result["duplicated_on_screen"] == 0
        and result["stored_twice"] == 0
        and result["faults_happened"]
        and result["qc_ok"]
    )
    return result


def print_outcome(result: dict[str, Any]) -> None:
    phases = result["phases"]
    base = phases.get("baseline")
    for name, fig in phases.items():
        print_phase(name, fig, None if name == "baseline" else base)
    log(
        f"total: {result['sent']} messages, lost from view {result['lost_from_view']}, "
        f"duplicated on screen {result['duplicated_on_screen']}, never stored "
        f"{result['never_stored']}, stored twice {result['stored_twice']}; server tracebacks "
        f"{result['server_tracebacks']} (unhandled {result['server_unhandled']}); faults "
        f"happened: {result['faults_happened']}; quality control ok: {result['qc_ok']}"
    )
