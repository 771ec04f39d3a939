"""bench/retrieval_latency.py runs as a user runs it, over the released data, and reports every
mode beside its baseline, within the 200 ms budget per reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.helpers import bench_script, last_json_line, run_script

pytestmark = pytest.mark.esconv


def test_it_times_every_mode_beside_the_baseline(esconv_dir: Path) -> None:
    done = run_script(
        bench_script("retrieval_latency.py"),
        str(esconv_dir / "hf_release_splits"),
        "--n",
        "20",
        "--json",
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = last_json_line(done)
    assert figures["n"] == 20 and figures["candidates"] > 10_000
    for name in ("baseline", "joint", "oracle", "random"):
        assert 0 < figures[name]["p50_ms"] <= figures[name]["max_ms"]
    for mode in ("joint", "oracle", "random"):
        assert figures[mode]["p99_ms"] < 200
    assert "joint" in done.stdout and "baseline" in done.stdout
