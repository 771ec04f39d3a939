"""`manage.py safety_scan`: safety flags in ESConv files or a collection run (docs/safety.md)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chat.dataset import DatasetError
from crowd.selectors import run_named
from safety.scanning import ScanResult, file_conversations, run_conversations, scan

# How much of a flagged message the text report shows.
EXCERPT = 120


class Command(BaseCommand):
    help = (
        "Scan ESConv files or a collection run's conversations for safety flags: a seeker in "
        "danger, or supporter misconduct (docs/safety.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--run", help="a collection run's name (every ended conversation)")
        source.add_argument(
            "--file",
            action="append",
            type=Path,
            help="an ESConv file (raw or JSON lines, detected) or a folder of them; repeatable",
        )
        parser.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        # The whole scan is done before anything is written: a bad file leaves no output.
        try:
            result = self._scan(options)
        except DatasetError as exc:
            raise CommandError(f"{exc}; nothing was scanned") from exc
        if options["fmt"] == "json":
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            self.stdout.write(to_text(result), ending="")

    def _scan(self, options: dict[str, Any]) -> ScanResult:
        if options["file"]:
            return scan(file_conversations(options["file"]))
        run = run_named(options["run"])
        if run is None:
            raise CommandError(f"no collection run is named {options['run']!r}")
        return scan(run_conversations(run))


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "0.0%"


def to_text(result: ScanResult) -> str:
    """The summary (flag rates, flags per category), then each flagged message."""
    flagged = result.flagged_conversations
    messages = len({(f.conversation, f.position) for f in result.flags})
    lines = [
        f"Conversations: {result.conversations}, flagged: {flagged} "
        f"({_rate(flagged, result.conversations)})",
        f"Messages: {result.messages}, flagged: {messages} ({_rate(messages, result.messages)})",
    ]
    counts: dict[str, int] = {}
    for flag in result.flags:
        counts[flag.category] = counts.get(flag.category, 0) + 1
    lines += [f"  {category}: {count}" for category, count in sorted(counts.items())]
    for flag in result.flags:
        excerpt = flag.text if len(flag.text) <= EXCERPT else flag.text[: EXCERPT - 1] + "…"
        lines.append(
            f"conversation {flag.conversation}, utterance {flag.position} ({flag.speaker}): "
            f"{flag.category} {flag.score:.2f} — {excerpt}"
        )
    return "\n".join(lines) + "\n"
