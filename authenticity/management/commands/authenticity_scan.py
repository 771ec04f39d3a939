"""`manage.py authenticity_scan`: repeated and templated messages in ESConv files or a
collection run (docs/authenticity.md)."""

from __future__ import annotations

import json
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authenticity.scanning import (
    DUPLICATE,
    Line,
    ScanResult,
    ScanSettings,
    excerpts,
    file_conversations,
    run_conversations,
    run_supporters,
    scan,
)
from chat.dataset import DatasetError
from crowd.selectors import run_named
from safety.categories import SUPPORTER

# How much of a flagged message the text report shows, and how many flags it lists.
EXCERPT = 120
SHOWN = 20

Source = Callable[[], Iterator[tuple[int, list[Line]]]]


def _words(value: str) -> int:
    number = int(value)
    if number < 3:  # a 3-word shingle needs three words
        raise ArgumentTypeError("must be at least 3")
    return number


def _share(value: str) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ArgumentTypeError("must be above 0 and at most 1")
    return number


class Command(BaseCommand):
    help = (
        "Scan ESConv files or a collection run's conversations for messages repeated across "
        "conversations, exactly or nearly, and for openings a supporter reuses "
        "(docs/authenticity.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--run",
            action="append",
            help="a collection run's name (every ended conversation); repeatable: a supporter "
            "has one conversation per run, so templated openings need several runs",
        )
        source.add_argument(
            "--file",
            action="append",
            type=Path,
            help="an ESConv file (raw or JSON lines, detected) or a folder of them; repeatable",
        )
        parser.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")
        defaults = ScanSettings()
        parser.add_argument(
            "--min-words",
            type=_words,
            default=defaults.min_words,
            help=f"shorter messages are never duplicates (default {defaults.min_words})",
        )
        parser.add_argument(
            "--threshold",
            type=_share,
            default=defaults.threshold,
            help=f"Jaccard of word shingles for a near-duplicate (default {defaults.threshold})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = ScanSettings(min_words=options["min_words"], threshold=options["threshold"])
        # The whole scan is done before anything is written: a bad file leaves no output.
        try:
            source, supporters = self._source(options)
            result = scan(source(), supporters, settings)
            texts = {} if options["fmt"] == "json" else _shown_texts(source, result)
        except DatasetError as exc:
            raise CommandError(f"{exc}; nothing was scanned") from exc
        if options["fmt"] == "json":
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            self.stdout.write(to_text(result, texts, settings), ending="")

    def _source(self, options: dict[str, Any]) -> tuple[Source, dict[int, str] | None]:
        """A way to read the conversations (twice for the text report's excerpts), and the
        supporters of the runs' conversations (files name none)."""
        if options["file"]:
            paths = options["file"]
            return lambda: file_conversations(paths), None
        runs = []
        for name in dict.fromkeys(options["run"]):
            run = run_named(name)
            if run is None:
                raise CommandError(f"no collection run is named {name!r}")
            runs.append(run)
        supporters = {pk: person for run in runs for pk, person in run_supporters(run).items()}
        return lambda: chain.from_iterable(run_conversations(run) for run in runs), supporters


def _shown_texts(source: Source, result: ScanResult) -> dict[tuple[int, int], str]:
    # Texts are not kept by the scan; the few the report shows are read again.
    return excerpts(source(), {(f.conversation, f.position) for f in result.flags[:SHOWN]})


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "0.0%"


def to_text(result: ScanResult, texts: dict[tuple[int, int], str], settings: ScanSettings) -> str:
    """The summary (counts, the supporters' duplicate rate), then the first flags.

    Only a message of at least min_words words can be a duplicate, so that is the rate's base.
    """
    supporter = len(
        {
            (f.conversation, f.position)
            for f in result.flags
            if f.speaker == SUPPORTER and f.kind == DUPLICATE
        }
    )
    lines = [
        f"Conversations: {result.conversations}, utterances: {result.utterances}, "
        f"flagged: {result.flagged_utterances}",
        f"Supporter utterances of at least {settings.min_words} words: "
        f"{result.long_supporter_utterances}, duplicates: {supporter} "
        f"({_rate(supporter, result.long_supporter_utterances)})",
    ]
    counts: dict[str, int] = {}
    for flag in result.flags:
        counts[flag.kind] = counts.get(flag.kind, 0) + 1
    lines += [f"  {kind}: {count}" for kind, count in sorted(counts.items())]
    for flag in result.flags[:SHOWN]:
        text = texts.get((flag.conversation, flag.position), "")
        excerpt = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
        lines.append(
            f"conversation {flag.conversation}, utterance {flag.position} ({flag.speaker}): "
            f"{flag.kind} {flag.score:.2f}, {len(flag.matches)} other(s) — {excerpt}"
        )
    if len(result.flags) > SHOWN:
        lines.append(f"… and {len(result.flags) - SHOWN} more flags (--format json lists all)")
    return "\n".join(lines) + "\n"
