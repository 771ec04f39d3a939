"""Time `manage.py esconv_report` over a large synthetic collection (docs/analytics.md).

    .venv/bin/python bench/report_scale.py --n 100000 --json

Builds N ESConv-shaped conversations (bench/export_scale.py's builder: about 29 utterances
each, strategies, feedback, surveys) in a temporary SQLite file, or in the database of
--database-url (its rows removed afterwards), then runs the report over that run in a child
process and prints its wall time and peak RSS; building does not count. The report's own
dialogue count must equal N, or the bench fails. With --json the last line is one JSON object
with keys n, seconds, conversations_per_s, peak_rss_mb, build_seconds and database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.child import run_measured  # noqa: E402
from bench.export_scale import build, run_bench  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1300, help="conversations (default 1300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="database to use (default: a temporary SQLite file, deleted afterwards)",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


def report(env: dict[str, str], run_name: str, workdir: Path) -> tuple[float, float, int]:
    """Run the report in a child: (seconds, peak RSS in MB, dialogues it counted)."""
    output = workdir / "report.json"
    command = [sys.executable, str(REPO / "manage.py"), "esconv_report", "--run", run_name]
    command += ["--status", "all", "--format", "json"]
    seconds, peak_mb = run_measured(command, env, output, cwd=REPO)
    # The log holds stdout and stderr; the report is its one JSON line.
    lines = [line for line in output.read_text().splitlines() if line.startswith("{")]
    return seconds, peak_mb, int(json.loads(lines[-1])["dialogues"])


def measure(
    args: argparse.Namespace, env: dict[str, str], run_name: str, workdir: Path
) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    build_seconds = build(args.n, run_name, args.seed)
    connection.cursor().execute("ANALYZE")
    print(f"built {args.n} conversations in {build_seconds:.1f} s", flush=True)
    seconds, peak_mb, dialogues = report(env, run_name, workdir)
    if dialogues != args.n:
        raise SystemExit(f"the report counted {dialogues} dialogues, not {args.n}")
    print(
        f"reported {args.n} conversations in {seconds:.2f} s, peak RSS {peak_mb:.1f} MB", flush=True
    )
    return {
        "n": args.n,
        "seconds": round(seconds, 3),
        "conversations_per_s": round(args.n / seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "build_seconds": round(build_seconds, 1),
        "database": "external" if args.database_url else "sqlite-temp",
    }


def main() -> None:
    run_bench(parse_args(), "report", measure)


if __name__ == "__main__":
    main()
