"""The chaos bench, short: four pairs through the four faults, on a stack of its own.

It starts its own redis-server, uvicorn processes and Celery worker and its own database on the
PostgreSQL server, so it needs PostgreSQL, the redis-server binary and Celery (under CI=true a
missing one fails the test). It runs on the PostgreSQL pass of `make test` only: the SQLite
pass would run the very same bench a second time.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bench.helpers import (
    bench_script,
    database_exists,
    environment_without,
    last_json_line,
    run_script,
)
from tests.services_probe import reachable, require

BENCH = bench_script("chaos.py")
POSTGRES = "postgresql://postgres@127.0.0.1:5432/esc_chaos"
TIMEOUT = 150
FOREIGN = ("DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "TEST_REDIS_URL", "CELERY_BROKER_URL")


def on_postgres_pass() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def require_services() -> None:
    require("PostgreSQL", reachable(POSTGRES, 5432), "start PostgreSQL on 127.0.0.1:5432")
    require(
        "redis-server",
        shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None,
        "install redis-server (the bench starts its own on a free port)",
    )
    celery = Path(sys.executable).with_name("celery")
    require(
        "Celery",
        importlib.util.find_spec("celery") is not None and celery.exists(),
        "install the development requirements (make setup)",
    )


def run_bench(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = run_script(
        BENCH,
        *args,
        "--postgres",
        POSTGRES,
        "--json",
        timeout=TIMEOUT,
        env=environment_without(*FOREIGN),
    )
    return done, last_json_line(done)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_each_fault_happened(phases: dict[str, Any], pairs: int) -> None:
    baseline = phases["baseline"]
    assert baseline["reconnects"] == 2 * pairs and baseline["shown_0"] == 0
    asgi = phases["asgi_kill"]["fault"]
    assert asgi["pid_gone"] and asgi["restarted_pid"] != asgi["killed_pid"]
    assert asgi["clients_on_it"] > 0 and phases["asgi_kill"]["reconnects"] >= asgi["clients_on_it"]
    redis = phases["redis_restart"]["fault"]
    assert redis["old_gone"] and redis["new_pid"] != redis["old_pid"] and redis["ping"] == "PONG"
    assert phases["db_terminate"]["fault"]["terminated"] > 0
    qc = phases["worker_kill"]["fault"]
    assert qc["mid_run"] and qc["pid_gone"] and 0 < qc["decided_at_kill"] < qc["conversations"]
    assert qc["rerun"] == "succeeded"
    assert qc["exactly_one_decision"] == qc["conversations"] and qc["pending_after"] == 0
    assert qc["release"] is not None and qc["release_matches"]
    # Nothing it started is left running.
    for pid in (asgi["restarted_pid"], redis["new_pid"], qc["new_worker_pid"]):
        assert not alive(pid), pid


@pytest.mark.postgres
@pytest.mark.celery_worker
def test_nothing_is_lost_from_view_or_shown_twice_through_the_four_faults() -> None:
    if not on_postgres_pass():
        pytest.skip("runs on the PostgreSQL pass of make test (DATABASE_URL=postgresql://…)")
    require_services()
    started = time.monotonic()

    done, result = run_bench("--pairs", "4", "--phase-seconds", "8", "--settle-seconds", "15")

    assert done.returncode == 0, done.stdout + done.stderr
    assert result["lost_from_view"] == 0, done.stdout
    assert result["duplicated_on_screen"] == 0, done.stdout
    assert result["stored_twice"] == 0 and result["never_stored"] == 0
    assert result["faults_happened"] and result["qc_ok"] and result["ok"]
    assert result["server_unhandled"] == 0, done.stdout
    assert list(result["phases"]) == [
        "baseline",
        "asgi_kill",
        "redis_restart",
        "db_terminate",
        "worker_kill",
    ]
    assert all(p["sent"] > 0 for p in result["phases"].values())
    assert_each_fault_happened(result["phases"], pairs=4)
    # Its database is gone afterwards.
    name = re.search(r"^database (esc_chaos_\w+),", done.stdout, re.M)
    assert name is not None, done.stdout
    assert not database_exists(POSTGRES, name.group(1))
    assert time.monotonic() - started < TIMEOUT


def test_it_refuses_bad_options_before_starting_anything() -> None:
    done = run_script(BENCH, "--pairs", "0", timeout=60)

    assert done.returncode == 2
    assert "--pairs must be between 1 and 1000" in done.stderr
