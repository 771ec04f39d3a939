"""`manage.py esconv_report`: the paper's statistics of a collection run or of ESConv files."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analytics.dialogues import file_dialogues, run_dialogues
from analytics.plots import write_figures
from analytics.rendering import to_markdown
from analytics.report import build_report
from chat.dataset import DatasetError
from crowd.selectors import run_named


class Command(BaseCommand):
    help = (
        "Report the ESConv paper's statistics (counts, strategies, progress, sequences, "
        "lexical markers) of a collection run or of ESConv files (docs/analytics.md)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--run", help="a collection run's name")
        source.add_argument(
            "--file",
            action="append",
            type=Path,
            help="an ESConv file (raw or JSON lines, detected) or a folder of them; repeatable",
        )
        parser.add_argument(
            "--status",
            choices=("approved", "all"),
            default="approved",
            help="with --run: approved conversations only (default) or every ended one",
        )
        parser.add_argument(
            "--format", dest="fmt", choices=("markdown", "json"), default="markdown"
        )
        parser.add_argument("--plots", type=Path, help="write the figures (PNG and SVG) here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report, title = self._report(options)
        except DatasetError as exc:
            raise CommandError(f"{exc}; no report was made") from exc
        if options["plots"] is not None:
            try:
                written = write_figures(report, options["plots"])
            except OSError as exc:
                raise CommandError(
                    f"cannot write the figures to {options['plots']}: {exc}"
                ) from exc
            self.stderr.write(f"wrote {len(written)} figures to {options['plots']}")
        if options["fmt"] == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(to_markdown(report, title), ending="")

    def _report(self, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        if options["file"]:
            names = ", ".join(str(p) for p in options["file"])
            return build_report(file_dialogues(options["file"])), f"ESConv report: {names}"
        run = run_named(options["run"])
        if run is None:
            raise CommandError(f"no collection run is named {options['run']!r}")
        status = options["status"]
        return (
            build_report(run_dialogues(run, status)),
            f"ESConv report: run {run.name} ({status})",
        )
