"""`manage.py export_esconv --output PATH`: write conversations in the ESConv layout."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chat.dataset import DatasetError
from chat.dataset.exporting import export_conversations
from chat.dataset.layouts import EXPORT_FORMATS
from crowd.models import CollectionRun
from crowd.selectors import run_named
from esc_platform.progress import Progress


class Command(BaseCommand):
    help = (
        "Export conversations in the ESConv layout (docs/dataset.md). Withdrawn conversations "
        "and personal data are never exported; files appear only when complete."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", required=True, help="file to write, or - for stdout")
        parser.add_argument(
            "--format", dest="fmt", choices=EXPORT_FORMATS, default="raw", help="default: raw"
        )
        parser.add_argument(
            "--status",
            choices=("approved", "all"),
            default="approved",
            help="approved conversations only (default) or every ended one",
        )
        parser.add_argument("--run", dest="run_name", help="only this collection run")
        parser.add_argument(
            "--split",
            help="write PATH-stem.train/.valid/.test files in these shares, e.g. 6:2:2",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
        parser.add_argument(
            "--include-safety",
            action="store_true",
            help=(
                "add each conversation's safety flags (position, category, score, resolved) "
                "as a 'safety_flags' key; off by default, which keeps the ESConv layout exact"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output: str = options["output"]
        # The bar goes to stderr, and only when that is a terminal; stdout may be the data.
        progress = Progress("export", stream=self.stderr)
        try:
            with progress:
                counts = export_conversations(
                    _Unterminated(self.stdout) if output == "-" else Path(output),
                    status=options["status"],
                    run=_named_run(options["run_name"]),
                    fmt=options["fmt"],
                    split=options["split"],
                    seed=options["seed"],
                    progress=progress,
                    include_safety=options["include_safety"],
                )
        except BrokenPipeError:
            # The reader (`| head`) stopped reading: end quietly, as Unix tools do, with
            # stdout pointed at /dev/null so the interpreter's final flush cannot fail.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        except DatasetError as exc:
            raise CommandError(f"{exc}; nothing was exported") from exc
        self._report(output, counts, progress)

    def _report(self, output: str, counts: dict[str, int], progress: Progress) -> None:
        """One last line: how many conversations went where, and how long it took."""
        total = sum(counts.values())
        if "all" not in counts:
            shares = ", ".join(f"{name} {count:,}" for name, count in counts.items())
            self.stdout.write(progress.summary("exported", total, f"beside {output} ({shares})"))
        elif output == "-":
            self.stderr.write(progress.summary("exported", total))
        else:
            self.stdout.write(progress.summary("exported", total, f"to {output}"))


def _named_run(name: str | None) -> CollectionRun | None:
    if not name:
        return None
    run = run_named(name)
    if run is None:
        raise CommandError(f"no collection run named {name!r}; nothing was exported")
    return run


class _Unterminated:
    """Write to a command's stdout without the newline Django's OutputWrapper appends."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
