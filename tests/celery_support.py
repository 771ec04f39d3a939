"""A REAL Celery worker for tests: a subprocess on Redis, sharing the test's database.

Eager mode hides serialization and transaction bugs, so tests that matter run their task in
a separate worker process. Use with `@pytest.mark.celery_worker` and
`@pytest.mark.django_db(transaction=True)` (the worker must see committed rows):

    from tests.celery_support import celery_worker_process  # noqa: F401

    def test_it_runs(celery_worker_process: CeleryWorker) -> None:
        my_task.delay(...)
        celery_worker_process.wait_for(lambda: ..., timeout=20)

A test that needs another worker (another pool, a patched program, more settings) starts one
with `running_worker(tmp_path, program=..., pool=..., SETTING="value")`; a child process that
is no worker but must see the test's committed rows gets `database_environment()`.

Without Redis the fixture skips locally and fails under CI=true (tests.services_probe).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connection

from tests.services_probe import require_redis

ROOT = Path(__file__).resolve().parent.parent
# A Redis database number of its own, so queued tasks never mix with other test runs.
WORKER_REDIS_DB = int(os.environ.get("TEST_CELERY_REDIS_DB", "11"))


def broker_url(redis_url: str) -> str:
    """The Redis URL with this suite's private database number (WORKER_REDIS_DB)."""
    parsed = urlparse(redis_url)
    return urlunparse(parsed._replace(path=f"/{WORKER_REDIS_DB}"))


def _database_env() -> dict[str, str]:
    """Point the worker at the database this test uses (pytest-django's test database)."""
    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        name = str(s["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("a real worker cannot share an in-memory SQLite database")
        return {"SQLITE_PATH": name, "DATABASE_URL": ""}
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return {"DATABASE_URL": f"postgresql://{auth}{host}{port}/{s['NAME']}"}


def database_environment(**extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test's database, with `extra` on top: for a
    child process (a worker, a job) that must see the rows the test committed."""
    env = {**os.environ, **_database_env(), **extra}
    if not env.get("DATABASE_URL"):
        env.pop("DATABASE_URL", None)
    return env


@dataclass
class CeleryWorker:
    process: subprocess.Popen[bytes]
    broker_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll `condition` until it holds; fail with the worker's log when it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker exited ({self.process.returncode}):\n{self.log()}")
            time.sleep(0.2)
        pytest.fail(f"condition not met within {timeout}s; worker log:\n{self.log()}")


SOLO_POOL = ("-P", "solo")


@contextmanager
def running_worker(
    tmp_path: Path,
    *,
    program: Sequence[str] | None = None,
    pool: Sequence[str] = SOLO_POOL,
    **extra_env: str,
) -> Iterator[CeleryWorker]:
    """A `celery worker` on a private Redis database and a queue of its own, on the test's
    database, until the block ends; tasks this process sends go to it meanwhile.

    `program` runs instead of the `celery` script (it must take celery's arguments: a
    `python -c` that patches something, then calls celery's main); `pool` is the pool's
    options; `extra_env` goes into the worker's environment.
    """
    from esc_platform.celery import app

    broker = broker_url(require_redis())
    env = database_environment(
        CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND="", PYTHONUNBUFFERED="1", **extra_env
    )
    # A queue and a node name of this worker's own: two test runs sharing the Redis database
    # can never take each other's tasks, and the ping below hears only our worker.
    suffix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    queue = f"test-{suffix}"
    node = f"test-{suffix}@{socket.gethostname()}"
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)

    def _reset_connections() -> None:
        # The app caches its pools for the previous broker. kombu keeps one pool per broker
        # URL in a global registry, so forgetting ours (not closing it) is enough.
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = broker
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    _reset_connections()

    log_path = tmp_path / "celery-worker.log"
    command = [*(program or [str(Path(sys.executable).with_name("celery"))])]
    command += ["-A", "esc_platform", "worker", *pool]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    command += ["-Q", queue, "--loglevel", "INFO", "-n", node]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = CeleryWorker(process, broker, log_path, env)
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not answer ping:\n{worker.log()}")
        yield worker
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = saved
        _reset_connections()


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[CeleryWorker]:
    """Start `celery worker -P solo` on a private Redis database; this process sends to it."""
    with running_worker(tmp_path, ESCONV_EXPORT_DIR=str(tmp_path / "releases")) as worker:
        yield worker
