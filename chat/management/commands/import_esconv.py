"""`manage.py import_esconv PATH`: load an ESConv file (raw, JSON lines or legacy layout)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chat.dataset import DatasetError
from chat.dataset.importing import IMPORT_STATUSES, import_esconv_file
from chat.dataset.layouts import FORMATS
from esc_platform.progress import Progress


class Command(BaseCommand):
    help = (
        "Import an ESConv file. All or nothing: a bad record stops the import and nothing from "
        "the file is kept. Conversations already imported are skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="the file to import")
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=("auto", *FORMATS),
            default="auto",
            help="file layout (default: detect it)",
        )
        parser.add_argument(
            "--status",
            choices=[str(s) for s in IMPORT_STATUSES],
            default="approved",
            help="quality status given to the imported conversations (default: approved)",
        )
        parser.add_argument(
            "--run", dest="run_name", help="collection run to import into (created if missing)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A bar on stderr while the rows are written, only when stderr is a terminal.
        progress = Progress("import", stream=self.stderr)
        try:
            with progress:
                result = import_esconv_file(
                    options["path"],
                    fmt=options["fmt"],
                    status=options["status"],
                    run_name=options["run_name"],
                    progress=progress,
                )
        except DatasetError as exc:
            raise CommandError(f"{options['path']}: {exc}; nothing was imported") from exc
        self.stdout.write(
            f"{options['path']} ({result.format}): imported {result.imported}, "
            f"skipped {result.skipped} already present, into run {result.run!r}"
        )
        self.stdout.write(progress.summary("imported", result.imported))
