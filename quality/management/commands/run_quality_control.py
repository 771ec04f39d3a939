"""`manage.py run_quality_control`: the periodic quality-control job, run by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.models import CollectionRun
from crowd.selectors import run_named
from esc_platform.progress import Progress
from quality.errors import QualityError
from quality.job import INCOMPLETE, QualityControlResult, run_quality_control
from quality.releases import ReleaseOutcome


class Command(BaseCommand):
    help = (
        "Judge ended conversations that are pending (preliminary filter, then auto-approval), "
        "print the counts, and write a release of the approved set. Exits with an error when "
        "another job held some conversations: that run is incomplete and writes no release."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--run", metavar="NAME", help="only conversations of this collection run"
        )
        parser.add_argument(
            "--rejudge",
            action="store_true",
            help="judge again what the rules decided earlier (reviewers' decisions are kept)",
        )
        parser.add_argument(
            "--no-release", action="store_true", help="judge only; do not write a release file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = _named_run(options["run"])
        # A bar on stderr while judging, only when stderr is a terminal.
        progress = Progress("judge", stream=self.stderr)
        try:
            with progress:
                result = run_quality_control(
                    run=run,
                    rejudge=options["rejudge"],
                    release=not options["no_release"],
                    progress=progress,
                )
        except QualityError as exc:
            raise CommandError(str(exc)) from exc
        self._report(result)
        self.stdout.write(progress.summary("judged", result.counts.judged))
        if not result.complete:
            # Not a success: some conversations were left to another job (and no release made).
            raise CommandError(result.summary())

    def _report(self, result: QualityControlResult) -> None:
        c = result.counts
        self.stdout.write(
            f"judged {c.judged}: filtered={c.filtered} approved={c.approved} review={c.review}"
            + (f" (skipped {c.skipped} held by another job)" if c.skipped else "")
        )
        totals = " ".join(f"{k}={v}" for k, v in result.totals.items())
        self.stdout.write(f"totals: {totals}")
        if result.release is not None:
            r = result.release
            self.stdout.write(f"release {r.number}: {r.count} conversations -> {r.path}")
        elif result.release_status == ReleaseOutcome.UNCHANGED:
            self.stdout.write("no new release: the approved set is unchanged")
        elif result.release_status == ReleaseOutcome.EMPTY:
            self.stdout.write("no release: no conversation is approved yet")
        elif result.release_status == INCOMPLETE:
            self.stdout.write("no release: this run did not judge everything (see below)")


def _named_run(name: str | None) -> CollectionRun | None:
    if not name:
        return None
    run = run_named(name)
    if run is None:
        raise CommandError(f"no collection run named {name!r}")
    return run
