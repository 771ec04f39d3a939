"""The chat load benchmark, run at a tiny scale against the real server, Redis and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.services_probe import reachable, require, require_redis

REPO = Path(__file__).resolve().parent.parent.parent
BENCH = REPO / "bench" / "chat_load.py"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/esc_bench_test"
KEYS = (
    "pairs",
    "p50_ms",
    "p99_ms",
    "msgs_per_s",
    "lost",
    "duplicated",
    "relay_p50_ms",
    "relay_p99_ms",
    "relay_msgs_per_s",
)


def run_bench(*args: str, redis_url: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(
        [sys.executable, str(BENCH), *args, "--database-url", POSTGRES, "--redis-url", redis_url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{done.stderr}"
    return done, json.loads(lines[-1])


@pytest.mark.redis
@pytest.mark.postgres
def test_it_delivers_and_stores_every_message_exactly_once() -> None:
    redis_url = require_redis()
    require("PostgreSQL", reachable(POSTGRES, 5432), "start PostgreSQL on 127.0.0.1:5432")

    done, figures = run_bench(
        "--pairs", "2", "--messages", "4", "--think-ms", "20", "--json", redis_url=redis_url
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert list(figures)[: len(KEYS)] == list(KEYS)
    assert figures["pairs"] == 2
    # Two pairs, four messages per side: sixteen messages, each stored and delivered once.
    assert figures["sent"] == 16
    assert figures["delivered"] == 16
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["missing_acks"] == 0
    assert figures["failed_pairs"] == 0
    assert figures["server_errors"] == 0
    assert figures["relay_lost"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert 0 < figures["relay_p50_ms"] <= figures["relay_p99_ms"]
    assert figures["msgs_per_s"] > 0 and figures["relay_msgs_per_s"] > 0
    assert "ESC chat vs bare relay" in done.stdout
    # Its fresh database is gone afterwards.
    name = re.search(r"^database (\w+): migrating", done.stdout, re.M)
    assert name is not None and name.group(1).startswith("esc_bench_test_")
    with psycopg.connect(POSTGRES.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name.group(1)])
        assert left.fetchone() is None


def test_it_refuses_bad_options_before_touching_anything() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--pairs", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert "--pairs must be between 1 and 5000" in done.stderr
