"""Print a collection run's settings as a run file (docs/run-files.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd import run_files
from crowd.models import CollectionRun


class Command(BaseCommand):
    help = "Write a collection run's settings as a YAML run file (standard output or --output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the run's name")
        parser.add_argument("--output", type=Path, help="write the file here instead")

    def handle(self, *args: Any, **options: Any) -> None:
        run = CollectionRun.objects.filter(name=options["name"]).first()
        if run is None:
            raise CommandError(f"no collection run is named {options['name']!r}")
        text = run_files.dump(run)
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        if not output.parent.is_dir():
            raise CommandError(f"--output: the folder {output.parent} does not exist")
        # Whole or not at all: written beside the target, then renamed over it.
        handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stderr.write(f"wrote run {run.name!r} to {output}")
