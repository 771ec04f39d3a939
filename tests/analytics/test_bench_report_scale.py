"""The report benchmark runs end to end at a tiny size and reports what it promises."""

from __future__ import annotations

from tests.bench.helpers import bench_script, environment_without, last_json_line, run_script

BENCH = bench_script("report_scale.py")


def test_it_reports_the_time_and_memory_of_a_report_over_its_synthetic_run() -> None:
    done = run_script(
        BENCH, "--n", "30", "--json", timeout=300, env=environment_without("DATABASE_URL")
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = last_json_line(done)
    assert figures["n"] == 30 and figures["database"] == "sqlite-temp"
    assert figures["seconds"] > 0 and figures["conversations_per_s"] > 0
    assert 10 < figures["peak_rss_mb"] < 500
    assert "reported 30 conversations in" in done.stdout
