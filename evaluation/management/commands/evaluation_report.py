"""`manage.py evaluation_report --run NAME`: an evaluation run's Table 5 and Figure 5."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crowd.selectors import run_named
from evaluation.report import ReportError, evaluation_report, render_markdown


class Command(BaseCommand):
    help = (
        "Report an evaluation run's results: which backend the seekers found better on each of "
        "the five questions, with sign tests, and each backend's strategies by conversation "
        "progress (docs/evaluation.md, Results)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--run", required=True, help="the evaluation run's name")
        parser.add_argument(
            "--format", dest="fmt", choices=("markdown", "json"), default="markdown"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_named(options["run"])
        if run is None:
            raise CommandError(f"no collection run is named {options['run']!r}")
        try:
            report = evaluation_report(run)
        except ReportError as exc:
            raise CommandError(str(exc)) from exc
        if options["fmt"] == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(render_markdown(report), ending="")
