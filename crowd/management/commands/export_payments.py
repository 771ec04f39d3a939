"""Write a collection run's payment CSV and mark its workers paid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd import payments
from esc_platform.progress import Progress


class Command(BaseCommand):
    help = (
        "Write the payment CSV of a collection run (workers not yet paid; --all for everyone) "
        "and mark the exported workers paid, so a second export adds only new rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", required=True, help="name of the collection run")
        parser.add_argument("--output", required=True, help="path of the CSV file to write")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="include_paid",
            help="write every finished worker again, including those already paid",
        )
        parser.add_argument(
            "--site",
            choices=[site.value for site in payments.PaymentSite],
            default=payments.PaymentSite.FULL.value,
            help=(
                "layout: full (every column, default), prolific (participant_id,amount lines "
                "for Prolific's bulk bonus), mturk (WorkerId,AssignmentId,BonusAmount,Reason)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A bar on stderr while the rows are written, only when stderr is a terminal.
        progress = Progress("payments", noun="payment row", stream=self.stderr)
        try:
            run = payments.find_run(options["run"])
            with progress:
                result = payments.export_payments_to_file(
                    run,
                    Path(options["output"]),
                    site=payments.PaymentSite(options["site"]),
                    include_paid=options["include_paid"],
                    progress=progress,
                )
        except (payments.PaymentError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Wrote {result.rows} payment rows to {options['output']} "
            f"(total {result.total} {run.currency}, bonus {result.bonus}); "
            f"{result.newly_paid} workers newly marked paid."
        )
        if result.skipped_deleted:
            self.stderr.write(
                f"{result.skipped_deleted} finished workers were left out: their data was "
                "deleted at their request, so there is no id to pay."
            )
        self.stdout.write(progress.summary("exported", result.rows))
