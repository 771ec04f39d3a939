"""Running a bench script as the user would, and reading what it printed and left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


def bench_script(name: str) -> Path:
    return REPO / "bench" / name


def environment_without(*names: str) -> dict[str, str]:
    """This process's environment minus `names` (what would point a bench at our services)."""
    return {k: v for k, v in os.environ.items() if k not in names}


def run_script(
    script: Path, *args: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `script ARGS` from the project directory, output captured.

    A bench still running after `timeout` seconds gets SIGTERM, which it answers by stopping
    and removing everything it started; the test then fails with what it printed.
    """
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        pytest.fail(f"{script.name} took over {timeout:.0f} s:\n{out}\n{err}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def last_json_line(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON object a bench run with --json prints as its last line."""
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{done.stderr}"
    figures = json.loads(lines[-1])
    assert isinstance(figures, dict), lines[-1]
    return figures


def database_exists(server_url: str, name: str) -> bool:
    """Whether the PostgreSQL server of `server_url` (any database path) holds database `name`."""
    admin_url = server_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None
