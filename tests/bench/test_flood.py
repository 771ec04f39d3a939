"""The flood bench, at a tiny scale: it starts its own server on a throwaway database, the limit
refuses the flood with 429s, and the user's database is never opened."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "flood_sent",
    "flood_accepted",
    "flood_429",
    "workers_created",
    "quiet_p50_ms",
    "quiet_p99_ms",
    "flood_p50_ms",
    "flood_p99_ms",
    "p99_ratio",
    "target_ratio",
    "baseline_quiet_p99_ms",
    "baseline_flood_p99_ms",
}


def _figures(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, stdout
    return json.loads(lines[-1])


def test_a_small_flood_is_refused_and_the_worker_page_keeps_answering(tmp_path: Path) -> None:
    users_db = tmp_path / "users.sqlite3"
    users_db.write_bytes(b"the user's own database: a bench must not open it")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SQLITE_PATH"] = str(users_db)
    args = ["--seconds", "2", "--rate", "20", "--quiet-seconds", "1", "--probe-rate", "10"]
    done = subprocess.run(
        [sys.executable, "bench/flood.py", *args, "--entry-rate", "10/m", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = _figures(done.stdout)
    assert set(figures) >= KEYS
    assert figures["flood_sent"] == 40
    # 10 a minute, the normal worker's own link included; a window may turn over once.
    assert 1 <= figures["flood_accepted"] <= 19
    assert figures["flood_429"] == 40 - figures["flood_accepted"]
    assert figures["workers_created"] == figures["flood_accepted"] + 1
    assert figures["quiet_p99_ms"] > 0 and figures["flood_p99_ms"] > 0
    assert "refused with 429" in done.stdout
    assert users_db.read_bytes() == b"the user's own database: a bench must not open it"
    used = re.search(r"^database: temporary SQLite file (\S+)$", done.stdout, re.M)
    assert used is not None, done.stdout
    assert not Path(used.group(1)).parent.exists()  # removed afterwards
