"""`manage.py calibrate_rules --run NAME`: the rule-calibration table of a run, as on its page."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crowd.selectors import run_named
from quality.calibration import GRID, Table, calibration_table, table_as_dict


class Command(BaseCommand):
    help = (
        "Print the rule-calibration table of a run: every candidate rule set of the grid with "
        "Cohen's kappa against each reviewer's labels and the mean, best first, and the "
        "kappa between reviewers. Exits with an error when the run has no labels yet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", metavar="NAME", required=True, help="the collection run")
        parser.add_argument(
            "--format", choices=["markdown", "json"], default="markdown", help="output format"
        )
        parser.add_argument(
            "--top", type=int, default=0, help="markdown: print only the best N rows (0: all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_named(options["run"])
        if run is None:
            raise CommandError(f"no collection run named {options['run']!r}")
        table = calibration_table(run)
        if not table.labelled:
            # An empty table would look like a result; say what is missing instead.
            missing = "no calibration sample" if table.sample is None else "no calibration labels"
            raise CommandError(
                f"run {run.name!r} has {missing} yet; label it at "
                f"/quality/calibration/{run.name}/label/"
            )
        if options["format"] == "json":
            self.stdout.write(json.dumps(table_as_dict(table), indent=2))
        else:
            self.stdout.write(markdown(table, top=options["top"]))


def _kappa(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def markdown(table: Table, *, top: int = 0) -> str:
    """The table as Markdown: a summary of the reviewers, then the rows best first."""
    lines = [
        f"Run {table.run.name}: {table.sampled} sampled, "
        f"rule set in force v{table.rule_set_version}",
        "",
    ]
    lines += [f"- {name}: {table.label_counts[name]} labels" for name in table.reviewers]
    lines += [
        f"- inter-reviewer kappa {a} / {b}: {_kappa(k)} over {n} conversations"
        for a, b, n, k in table.inter_reviewer
    ]
    header = [*GRID, *(f"kappa {name}" for name in table.reviewers), "mean kappa", "approves"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = table.rows[:top] if top > 0 else table.rows
    for row in rows:
        cells = [str(v) for v in row.thresholds.values()]
        cells += [_kappa(row.kappas[name]) for name in table.reviewers]
        cells += [_kappa(row.mean) + (" (in force)" if row.in_force else ""), str(row.approved)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
