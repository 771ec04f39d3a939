"""`manage.py export_esconv --output PATH`: write conversations in the ESConv layout."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chat.dataset import DatasetError
from chat.dataset.exporting import (
    EXPORT_FORMATS,
    exportable_conversations,
    parse_split,
    write_export,
    write_export_file,
    write_split_export_files,
)
from crowd.models import CollectionRun


class Command(BaseCommand):
    help = (
        "Export conversations in the ESConv layout (SPEC section 8). Withdrawn conversations and "
        "personal data are never exported; files appear only when complete."
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

    def handle(self, *args: Any, **options: Any) -> None:
        output: str = options["output"]
        progress = sys.stderr.isatty()
        try:
            run = None
            if options["run_name"]:
                run = CollectionRun.objects.filter(name=options["run_name"]).first()
                if run is None:
                    raise DatasetError(f"no collection run named {options['run_name']!r}")
            conversations = exportable_conversations(status=options["status"], run=run)
            if options["split"]:
                if output == "-":
                    raise DatasetError("--split writes three files; give --output a file name")
                counts = write_split_export_files(
                    Path(output),
                    conversations,
                    ratios=parse_split(options["split"]),
                    seed=options["seed"],
                    fmt=options["fmt"],
                    progress=progress,
                )
                summary = ", ".join(f"{name} {count}" for name, count in counts.items())
                self.stdout.write(f"Exported {summary} conversations beside {output}")
            elif output == "-":
                try:
                    count = write_export(
                        _Unterminated(self.stdout),
                        conversations,
                        fmt=options["fmt"],
                        progress=progress,
                    )
                except BrokenPipeError:
                    # The reader (`| head`) stopped reading: end quietly, as Unix tools do, with
                    # stdout pointed at /dev/null so the interpreter's final flush cannot fail.
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    return
                self.stderr.write(f"Exported {count} conversations")
            else:
                count = write_export_file(
                    Path(output), conversations, fmt=options["fmt"], progress=progress
                )
                self.stdout.write(f"Exported {count} conversations to {output}")
        except DatasetError as exc:
            raise CommandError(f"{exc}; nothing was exported") from exc


class _Unterminated:
    """Write to a command's stdout without the newline Django's OutputWrapper appends."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
