"""Settle a run on its crowd sites: approvals, rejections and bonuses through the ledger."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.models import CollectionRun
from settlement.services import Report, SettlementError, settle


class Command(BaseCommand):
    help = (
        "Approve or reject each worker's submission and pay their bonus on Prolific or MTurk, "
        "as the run's settlement policy says; each worker once, however often it runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", required=True, help="the run's name")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be done; call no site"
        )
        parser.add_argument(
            "--include-simulated",
            action="store_true",
            help="settle the run's simulated workers too (a rehearsal against a sandbox)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        run = CollectionRun.objects.filter(name=options["run"]).first()
        if run is None:
            raise CommandError(f"no collection run is named {options['run']!r}")
        try:
            report = settle(
                run,
                dry_run=options["dry_run"],
                source="command",
                include_simulated=options["include_simulated"],
            )
        except SettlementError as error:
            raise CommandError(str(error)) from error
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_json(), indent=2))
        else:
            self.stdout.write(_text(report))
        if any(row["state"] == "failed" for row in report.rows):
            raise CommandError("some calls were refused by the site: see the rows marked failed")


def _text(report: Report) -> str:
    head = "Would settle" if report.dry_run else "Settled"
    lines = [f"{head} run {report.run!r}:"]
    for what, count in sorted(report.counts.items()):
        lines.append(f"  {what}: {count}")
    paid = "to pay" if report.dry_run else "paid"
    lines.append(f"  bonuses {paid}: {report.bonus_total} {report.currency}")
    for row in report.rows:
        amount = f" {row['amount']} {report.currency}" if row["amount"] else ""
        error = f" ({row['error']})" if row["error"] else ""
        lines.append(
            f"  worker {row['worker']} ({row['provider']}, {row['status_code']}): "
            f"{row['kind']}{amount}: {row['state']}{error}"
        )
    for worker, why in report.skipped:
        lines.append(f"  worker {worker}: skipped, {why}")
    return "\n".join(lines)
