"""Write a run's ledger (what settlement asked the crowd sites for, and what became of it)."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.models import CollectionRun
from settlement.services import entries_of

COLUMNS = (
    "key",
    "worker_id",
    "provider",
    "kind",
    "amount",
    "currency",
    "state",
    "attempts",
    "site_payment_id",
    "sent_at",
    "confirmed_at",
    "error",
)


class Command(BaseCommand):
    help = (
        "Write the run's payments as settlement made them, one ledger row a line (CSV): the "
        "books of what was approved, rejected and paid on the crowd sites. No crowd-site ids "
        "of workers are written, only the platform's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", required=True, help="the run's name")
        parser.add_argument("--output", required=True, type=Path, help="the CSV file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        run = CollectionRun.objects.filter(name=options["run"]).first()
        if run is None:
            raise CommandError(f"no collection run is named {options['run']!r}")
        output: Path = options["output"]
        if not output.parent.is_dir():
            raise CommandError(f"--output: the folder {output.parent} does not exist")
        handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
        rows = 0
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                writer = csv.writer(stream, lineterminator="\n")
                writer.writerow(COLUMNS)
                for entry in entries_of(run):
                    writer.writerow(
                        [
                            entry.key,
                            entry.worker_id,
                            entry.provider,
                            entry.kind,
                            entry.amount if entry.amount is not None else "",
                            entry.currency,
                            entry.state,
                            entry.attempts,
                            entry.external_id,
                            entry.sent_at.isoformat() if entry.sent_at else "",
                            entry.confirmed_at.isoformat() if entry.confirmed_at else "",
                            entry.error,
                        ]
                    )
                    rows += 1
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(f"Wrote {rows} ledger rows of run {run.name!r} to {output}")
