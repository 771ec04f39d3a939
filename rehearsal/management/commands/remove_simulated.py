"""Remove everything a rehearsal created in a run (docs/rehearsal.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.models import CollectionRun
from rehearsal.removal import remove_simulated


class Command(BaseCommand):
    help = "Delete a run's simulated workers and all they made: conversations, surveys, answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", required=True, help="the collection run's name")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be removed, remove nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = CollectionRun.objects.filter(name=options["run"]).first()
        if run is None:
            raise CommandError(f"--run: no collection run is named {options['run']!r}")
        removed = remove_simulated(run, dry_run=options["dry_run"])
        verb = "would remove" if options["dry_run"] else "removed"
        self.stdout.write(
            f"{verb} {removed.workers} simulated workers and {removed.conversations} "
            f"conversations of run {run.name!r}"
        )
