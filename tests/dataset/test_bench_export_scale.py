"""The export benchmark runs end to end at a tiny size and reports what it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_it_reports_one_json_line_with_the_measured_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "export_scale.py"), "--n", "20", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert {
        "n",
        "seconds",
        "conversations_per_s",
        "peak_rss_mb",
        "baseline_seconds",
        "ratio",
    } <= set(figures)
    assert figures["n"] == 20
    assert figures["seconds"] > 0
    assert figures["conversations_per_s"] > 0
    assert 10 < figures["peak_rss_mb"] < 300
    # The bare baseline ran on the same rows and wrote the same bytes (the bench fails
    # otherwise); the ratio is the export's time over it. No threshold: a tiny run is mostly
    # the export's start-up, and CI machines vary.
    assert figures["baseline_seconds"] > 0
    # Both times are rounded to the millisecond in the report.
    seconds, baseline = figures["seconds"], figures["baseline_seconds"]
    low = (seconds - 0.0005) / (baseline + 0.0005)
    high = (seconds + 0.0005) / max(baseline - 0.0005, 1e-9)
    assert low * 0.999 <= figures["ratio"] <= high * 1.001, figures
    assert "bare baseline (DB-API cursor + json, same bytes)" in result.stdout
