"""A command or the server that cannot reach its database says why in one line, at once
(esc_platform/preflight.py): which database on which host, and the cause."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.server import free_port
from tests.services_probe import require

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql://{user}@127.0.0.1:{port}/{name}"


def _run(
    *args: str, database_url: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(DATABASE_URL=database_url, **env)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    return done, time.monotonic() - started


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def machine_postgres() -> int:
    reachable = True
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        reachable = False
    require("PostgreSQL", reachable, "nothing answers on 127.0.0.1:5432")
    return 5432


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes the connection and never answers (a host behind a dead link)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_an_unknown_database_is_named(machine_postgres: int) -> None:
    url = PG.format(user="postgres", port=machine_postgres, name="esc_no_such_database")
    done, took = _run("manage.py", "migrate", database_url=url)
    assert _one_line(done) == (
        f'ESC Platform: cannot reach the database "esc_no_such_database" at '
        f'127.0.0.1:{machine_postgres}: there is no database "esc_no_such_database" there'
    )
    assert took < 20


def test_an_unknown_user_is_said_without_a_password(machine_postgres: int) -> None:
    url = f"postgresql://nobody_here:s3cret-pw@127.0.0.1:{machine_postgres}/postgres"
    done, _ = _run("manage.py", "dump_run", "main", database_url=url)
    line = _one_line(done)
    assert 'user "nobody_here" was not let in' in line
    assert "s3cret-pw" not in done.stderr + done.stdout


def test_a_port_where_nothing_listens_is_refused_at_once() -> None:
    port = free_port()
    done, took = _run(
        "manage.py", "migrate", database_url=PG.format(user="u", port=port, name="db")
    )
    assert _one_line(done) == (
        f'ESC Platform: cannot reach the database "db" at 127.0.0.1:{port}: '
        "connection refused: nothing listens on that port"
    )
    assert took < 20


def test_a_silent_host_times_out_within_the_connect_timeout(silent_port: int) -> None:
    url = PG.format(user="u", port=silent_port, name="db")
    done, took = _run("manage.py", "migrate", database_url=url, DATABASE_CONNECT_TIMEOUT="2")
    assert _one_line(done).endswith("no answer within 2 s (DATABASE_CONNECT_TIMEOUT)")
    assert took < 15


def test_the_server_says_the_same_before_it_starts() -> None:
    port = free_port()
    url = PG.format(user="u", port=port, name="db")
    done, _ = _run("-m", "esc_platform.serve", "--workers", "1", database_url=url)
    assert "connection refused: nothing listens on that port" in _one_line(done)


def test_commands_that_need_no_database_still_run_without_one() -> None:
    url = PG.format(user="u", port=free_port(), name="db")
    done, _ = _run("manage.py", "check", database_url=url)
    assert done.returncode == 0, done.stderr
