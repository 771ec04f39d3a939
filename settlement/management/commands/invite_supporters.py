"""Put a run's qualified supporters on the lab's allow-list on their crowd sites."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.models import CollectionRun
from settlement.invitations import invite


class Command(BaseCommand):
    help = (
        "Add every supporter of the run who passed the training (and is not blocked) to a "
        "Prolific participant group and/or an MTurk qualification, for a later study to invite."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", required=True, help="the run whose supporters to invite")
        parser.add_argument("--prolific-group", default="", help="Prolific participant group id")
        parser.add_argument("--mturk-qualification", default="", help="MTurk qualification id")
        parser.add_argument("--dry-run", action="store_true", help="say who; call no site")

    def handle(self, *args: Any, **options: Any) -> None:
        run = CollectionRun.objects.filter(name=options["run"]).first()
        if run is None:
            raise CommandError(f"no collection run is named {options['run']!r}")
        groups = {"prolific": options["prolific_group"], "mturk": options["mturk_qualification"]}
        if not any(groups.values()):
            raise CommandError("give --prolific-group, --mturk-qualification or both")
        done = invite(run, {k: v for k, v in groups.items() if v}, dry_run=options["dry_run"])
        for row in done.rows:
            self.stdout.write(f"worker {row['worker']} ({row['provider']}): {row['state']}")
        summary = ", ".join(f"{what} {count}" for what, count in sorted(done.counts.items()))
        self.stdout.write(f"run {run.name!r}: {summary or 'no qualified supporters'}")
        if done.counts.get("failed"):
            raise CommandError("the site refused some: see the rows marked failed")
