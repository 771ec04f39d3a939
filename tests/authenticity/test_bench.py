"""The authenticity benchmark runs at a small size and reports what it promises."""

from __future__ import annotations

from tests.bench.helpers import bench_script, last_json_line, run_script

BENCH = bench_script("authenticity_scale.py")
KEYS = {
    "conversations",
    "utterances",
    "long_supporter_utterances",
    "planted_exact",
    "planted_near",
    "flagged_utterances",
    "flagged_supporter_utterances",
    "flags",
    "scan_wall_s",
    "scan_cpu_s",
    "baseline_wall_s",
    "baseline_cpu_s",
    "peak_rss_mb",
}


def test_it_scans_2000_conversations_and_finds_the_planted_copies() -> None:
    done = run_script(BENCH, "--conversations", "2000", "--json", timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    figures = last_json_line(done)
    assert set(figures) == KEYS
    assert figures["conversations"] == 2000
    assert 26 * 2000 <= figures["utterances"] <= 34 * 2000
    planted = figures["planted_exact"] + figures["planted_near"]
    assert planted > 0
    # Nearly every planted line has a copy in another conversation; nothing else is flagged.
    assert 0.95 * planted <= figures["flagged_supporter_utterances"] <= planted
    assert figures["flagged_utterances"] == figures["flagged_supporter_utterances"]
    assert figures["scan_wall_s"] > 0 and figures["peak_rss_mb"] > 0
    assert done.stdout.startswith("scanned 2000 conversations, ")
