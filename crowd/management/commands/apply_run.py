"""Create or update a collection run from a run file (docs/run-files.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd import run_files


class Command(BaseCommand):
    help = (
        "Create or update a collection run from a YAML run file; every key is checked as the "
        "admin checks it, and nothing is saved unless all are valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the run file (YAML)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and say what would change"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot read it ({error})") from error
        try:
            applied = run_files.apply(run_files.load(text), dry_run=options["dry_run"])
        except run_files.RunFileError as error:
            lines = [f"{path}: run {error.run!r} not applied:" if error.run else f"{path}:"]
            lines += [f"  {key}: {text}" if key else f"  {text}" for key, text in error.problems]
            raise CommandError("\n".join(lines)) from error
        prefix = "would have " if options["dry_run"] else ""
        name = applied.run.name
        if applied.created:
            self.stdout.write(f"{prefix}created run {name!r}")
        elif applied.changed:
            self.stdout.write(f"{prefix}updated run {name!r}: {', '.join(applied.changed)}")
        else:
            self.stdout.write(f"run {name!r} is unchanged")
