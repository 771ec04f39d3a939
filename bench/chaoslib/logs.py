"""Tracebacks in the server logs, by phase: what the servers said while a fault was on.

The servers log at WARNING, and the chat's handled failures (a relay retried, a retryable
error frame, a 4503 close) are warnings with their traceback, so every traceback is counted
under the line logged before it and the exception it ended with: "relay failed; retrying in
the background → redis.exceptions.ConnectionError: ..." tells an expected, handled failure
from "Exception in ASGI application", which is a crash of a connection's handler.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

UNHANDLED = "Exception in ASGI application"
CHAINED = ("The above exception", "During handling")


@dataclass
class LogFigures:
    tracebacks: int = 0
    unhandled: int = 0  # "Exception in ASGI application"
    errors: int = 0  # lines at ERROR (e.g. "gave up relaying")
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, other: LogFigures) -> None:
        self.tracebacks += other.tracebacks
        self.unhandled += other.unhandled
        self.errors += other.errors
        self.kinds.update(other.kinds)

    def as_dict(self) -> dict[str, object]:
        return {
            "tracebacks": self.tracebacks,
            "unhandled": self.unhandled,
            "kinds": dict(self.kinds.most_common(8)),
        }


def marks(paths: list[Path]) -> dict[Path, int]:
    """Where each log ends now: a phase reads only what is written after."""
    return {path: path.stat().st_size if path.exists() else 0 for path in paths}


def since(paths: list[Path], start: dict[Path, int]) -> str:
    parts = []
    for path in paths:
        if not path.exists():
            continue
        with path.open("rb") as handle:
            handle.seek(start.get(path, 0))
            parts.append(handle.read().decode(errors="replace"))
    return "\n".join(parts)


def _final_line(lines: list[str], i: int) -> str:
    """The exception a traceback starting at line i ended with (the last of a chain)."""
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if line.startswith((" ", "\t", "Traceback", *CHAINED)) or not line.strip():
            j += 1
            continue
        k = j + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        if k < len(lines) and lines[k].startswith(CHAINED):
            j = k + 1  # chained: the exception raised last is the one that counts
            continue
        return line[:120]
    return "(cut off)"


def _context_line(lines: list[str], i: int) -> str:
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return lines[j][:80] if j >= 0 else ""


def scan(text: str) -> LogFigures:
    figures = LogFigures()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(UNHANDLED):
            figures.unhandled += 1
        if "gave up relaying" in line:
            figures.errors += 1
        if not line.startswith("Traceback"):
            continue
        context = _context_line(lines, i)
        if context.startswith(CHAINED):
            continue  # one chained traceback: counted once, under its first part
        figures.tracebacks += 1
        figures.kinds[f"{context} → {_final_line(lines, i)}"] += 1
    return figures
