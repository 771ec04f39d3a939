"""What a load run shows: every message checked (exactly once), the figures, the summary."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.chatload.clients import PairClient, Side
from bench.chatload.load import LoadResult
from bench.common import log

Stored = Counter[tuple[int, str | None]]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Check:
    sent: int = 0
    delivered: int = 0
    lost_delivery: set[str] = field(default_factory=set)
    duplicated_delivery: set[str] = field(default_factory=set)
    lost_db: set[str] = field(default_factory=set)
    duplicated_db: set[str] = field(default_factory=set)
    unexpected: int = 0
    echo_missing: int = 0
    echo_duplicated: int = 0
    missing_acks: int = 0
    failed_pairs: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.lost_delivery | self.lost_db)

    @property
    def duplicated(self) -> int:
        return len(self.duplicated_delivery | self.duplicated_db)

    @property
    def healthy(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.failed_pairs == 0
            and self.unexpected == 0
            and self.echo_missing == 0
            and self.echo_duplicated == 0
            and self.missing_acks == 0
        )


def _check_side(
    out: Check,
    pair: PairClient,
    side: Side,
    stored: Stored | None,
    sent_keys: set[tuple[int, str]],
) -> None:
    """Each message this side sent: delivered once, echoed once, acked and stored once."""
    partner = pair.partner(side)
    conversation_id = pair.spec.conversation_id
    for client_id in side.sent:
        out.sent += 1
        sent_keys.add((conversation_id, client_id))
        count = partner.received[client_id]
        out.delivered += count > 0
        if count == 0:
            out.lost_delivery.add(client_id)
        elif count > 1:
            out.duplicated_delivery.add(client_id)
        echoes = side.echoes[client_id]
        out.echo_missing += echoes == 0
        out.echo_duplicated += echoes > 1
        if stored is not None:
            out.missing_acks += client_id not in side.acks
            db_count = stored[(conversation_id, client_id)]
            if db_count == 0:
                out.lost_db.add(client_id)
            elif db_count > 1:
                out.duplicated_db.add(client_id)
    out.unexpected += sum(1 for cid in side.received if cid not in pair.sent_at)


def check(result: LoadResult, stored: Stored | None) -> Check:
    """Every message sent must reach the partner once (and the database once, when given)."""
    out = Check()
    sent_keys: set[tuple[int, str]] = set()
    for pair in result.pairs:
        out.failed_pairs += pair.failed
        out.errors.extend(pair.errors)
        for side in (pair.seeker, pair.supporter):
            _check_side(out, pair, side, stored, sent_keys)
    if stored is not None:
        out.unexpected += sum(n for key, n in stored.items() if key not in sent_keys)
    return out


def summarize(result: LoadResult, checked: Check) -> dict[str, float]:
    rate = checked.delivered / result.chat_s if result.chat_s > 0 else 0.0
    cpu_per_message = result.server_cpu_s * 1000 / checked.delivered if checked.delivered else 0.0
    return {
        "cpu_ms_per_msg": round(cpu_per_message, 2),
        "p50_ms": round(percentile(result.latencies_ms, 50), 2),
        "p90_ms": round(percentile(result.latencies_ms, 90), 2),
        "p99_ms": round(percentile(result.latencies_ms, 99), 2),
        "max_ms": round(max(result.latencies_ms, default=0.0), 2),
        "msgs_per_s": round(rate, 1),
    }


def describe(label: str, result: LoadResult, checked: Check, figures: dict[str, float]) -> None:
    log(
        f"{label}: {len(result.pairs)} pairs, {checked.sent} messages sent, "
        f"{checked.delivered} delivered in {result.chat_s:.1f} s "
        f"(connecting took {result.connect_s:.1f} s)"
    )
    log(
        f"  latency p50 {figures['p50_ms']:.1f} ms, p90 {figures['p90_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms; "
        f"{figures['msgs_per_s']:.0f} messages/s; "
        f"server CPU {figures['cpu_ms_per_msg']:.2f} ms per message"
    )
    log(
        f"  lost {checked.lost} (delivery {len(checked.lost_delivery)}, "
        f"database {len(checked.lost_db)}), duplicated {checked.duplicated}, "
        f"echo missing {checked.echo_missing}, echo duplicated {checked.echo_duplicated}, "
        f"missing acks {checked.missing_acks}, "
        f"unexpected {checked.unexpected}, failed pairs {checked.failed_pairs}"
        + (", TIMED OUT" if result.timed_out else "")
    )
    for line in checked.errors[:10]:
        log(f"  ! {line}")
    if len(checked.errors) > 10:
        log(f"  ! ... and {len(checked.errors) - 10} more errors")


def compare(chat: dict[str, float], relay: dict[str, float]) -> None:
    """The chat's figures as multiples of the bare relay's."""
    if relay["p50_ms"] > 0 and relay["msgs_per_s"] > 0:
        p50 = chat["p50_ms"] / relay["p50_ms"]
        p99 = chat["p99_ms"] / max(relay["p99_ms"], 0.01)
        rate = chat["msgs_per_s"] / relay["msgs_per_s"]
        log(f"ESC chat vs bare relay: p50 ×{p50:.1f}, p99 ×{p99:.1f}, rate ×{rate:.2f}")


def server_problems(log_path: Path) -> tuple[int, list[str]]:
    """Count tracebacks and error lines in the server log; return the distinct last lines."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    lines = text.splitlines()
    errors = [ln for ln in lines if re.search(r"\b(ERROR|CRITICAL|Traceback)\b", ln)]
    # The last line of each traceback names the exception.
    finals: Counter[str] = Counter()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            if j < len(lines):
                finals[lines[j][:200]] += 1
    summary = [f"{n}× {line}" for line, n in finals.most_common(10)]
    return len(errors), summary
