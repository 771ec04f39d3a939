"""The chat load benchmark, run at a tiny scale against the real server, Redis and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.bench.helpers import (
    bench_script,
    database_exists,
    environment_without,
    last_json_line,
    run_script,
)
from tests.services_probe import reachable, require, require_redis

BENCH = bench_script("chat_load.py")
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


def run_bench(
    *args: str, redis_url: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = run_script(
        BENCH,
        *args,
        "--database-url",
        POSTGRES,
        "--redis-url",
        redis_url,
        timeout=300,
        env=environment_without("DATABASE_URL", "REDIS_URL"),
    )
    return done, last_json_line(done)


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
    assert not database_exists(POSTGRES, name.group(1))


def test_it_refuses_bad_options_before_touching_anything() -> None:
    done = run_script(BENCH, "--pairs", "0", timeout=60)

    assert done.returncode == 2
    assert "--pairs must be between 1 and 5000" in done.stderr
