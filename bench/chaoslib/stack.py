"""The bench's own stack: Redis, a PostgreSQL database, two uvicorn processes, a Celery worker.

Nothing is shared with the machine's services but the PostgreSQL server, where the bench
creates a database of its own (esc_chaos_<random>) and drops it at the end. Redis is a
`redis-server` of its own on a free port (never the machine's 6379). Every process is started
through devtools.server in a session of its own, so a Ctrl-C reaches only the bench, which then
stops them all (Stack.close, also registered with atexit).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.common import BenchSetupError, log
from bench.scratch import create_database, drop_database, fresh_database_url
from devtools.manage import run_manage
from devtools.server import (
    HOST,
    ServerError,
    ServerProcess,
    free_port,
    start,
    uvicorn_command,
)

# The heartbeat catch-up of every socket reads the conversation at most this often (seconds).
CHAT_SYNC_SECONDS = 3
# Inherited variables that would point a child at another database, Redis or broker.
FOREIGN = ("DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "CELERY_BROKER_URL", "TEST_REDIS_URL")
SLOTS = ("a", "b")


@dataclass
class Stack:
    logs: Path
    keep_logs: bool = False
    redis_port: int = 0
    redis: ServerProcess | None = None
    database_url: str = ""
    database_name: str = ""
    database_created: bool = False
    env: dict[str, str] = field(default_factory=dict)
    asgi_ports: dict[str, int] = field(default_factory=dict)
    asgi: dict[str, ServerProcess] = field(default_factory=dict)
    worker: ServerProcess | None = None
    queue: str = ""
    node: str = ""
    # Every log file written, in order: a restarted process writes a new one.
    asgi_logs: list[Path] = field(default_factory=list)
    worker_logs: list[Path] = field(default_factory=list)
    started: Counter[str] = field(default_factory=Counter)
    closed: bool = False

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/0"

    @property
    def broker_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/1"

    def log_path(self, name: str) -> Path:
        self.started[name] += 1
        return self.logs / f"{name}-{self.started[name]}.log"

    def close(self) -> None:
        """Stop every process, drop the database, remove the logs (unless kept). Idempotent."""
        if self.closed:
            return
        self.closed = True
        for server in [*self.asgi.values(), self.worker]:
            if server is not None:
                server.stop()
        stop_redis(self)
        if self.database_created:
            try:
                drop_database(self.database_url, self.database_name)
                self.database_created = False
            except Exception as exc:  # the run's result still matters; say what is left
                log(f"warning: could not drop database {self.database_name}: {exc}")
        if self.keep_logs:
            log(f"logs kept in {self.logs}")
        else:
            shutil.rmtree(self.logs, ignore_errors=True)


# --- the environment ---------------------------------------------------------------------


def server_environment(stack: Stack) -> dict[str, str]:
    """What the servers, the worker and manage.py run with: the bench's own services only."""
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env.update(
        DJANGO_SETTINGS_MODULE="esc_platform.settings",
        DATABASE_URL=stack.database_url,
        REDIS_URL=stack.redis_url,
        CELERY_BROKER_URL=stack.broker_url,
        CELERY_RESULT_BACKEND="",
        CHANNEL_LAYER="pubsub",
        CHAT_SYNC_SECONDS=str(CHAT_SYNC_SECONDS),
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        ESCONV_EXPORT_DIR=str(stack.logs / "releases"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def configure_django(stack: Stack) -> None:
    """Django in this process, on the bench database; no pool, so nothing stays connected."""
    os.environ.clear()
    os.environ.update(stack.env, DATABASE_POOL="false")
    import django

    django.setup()


# --- PostgreSQL ----------------------------------------------------------------------------


def create_bench_database(stack: Stack, server_url: str) -> None:
    stack.database_url, stack.database_name = fresh_database_url(server_url)
    try:
        create_database(stack.database_url, stack.database_name)
    except psycopg.Error as exc:
        raise BenchSetupError(f"cannot create a database on {server_url}: {exc}") from exc
    stack.database_created = True


def manage(stack: Stack, *arguments: str, timeout: float = 600) -> str:
    """Run a manage.py command against the bench's services; its output, or ManageError."""
    return run_manage(*arguments, env=stack.env, timeout=timeout)


# --- Redis ---------------------------------------------------------------------------------


def start_redis(stack: Stack) -> ServerProcess:
    """redis-server on the bench's port (a free one the first time), with no persistence."""
    if not stack.redis_port:
        stack.redis_port = free_port()
    command = ["redis-server", "--port", str(stack.redis_port), "--bind", HOST]
    command += ["--save", "", "--appendonly", "no", "--dir", str(stack.logs)]
    try:
        server = start(
            command,
            port=stack.redis_port,
            env=dict(os.environ),
            log_path=stack.log_path("redis"),
            new_session=True,
        )
    except FileNotFoundError as exc:
        raise BenchSetupError("redis-server is not installed") from exc
    stack.redis = server
    server.wait_until_ready(None, timeout=15)
    return server


def redis_cli(stack: Stack, *command: str) -> str:
    done = subprocess.run(
        ["redis-cli", "-h", HOST, "-p", str(stack.redis_port), *command],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return done.stdout.strip()


def stop_redis(stack: Stack) -> bool:
    """`redis-cli shutdown nosave`, then make sure the process is gone; True if it was ours."""
    server = stack.redis
    if server is None:
        return False
    if server.process.poll() is None:
        try:
            redis_cli(stack, "shutdown", "nosave")
            server.process.wait(timeout=10)
        except (OSError, subprocess.SubprocessError):
            server.stop()
    stack.redis = None
    return True


# --- uvicorn -------------------------------------------------------------------------------


def start_asgi(stack: Stack, slot: str) -> ServerProcess:
    """uvicorn with the ESC application on the slot's port (the same one after a restart)."""
    port = stack.asgi_ports.setdefault(slot, free_port())
    log_path = stack.log_path(f"asgi-{slot}")
    stack.asgi_logs.append(log_path)
    # Production settings name their origins: a client's is the server it connects to.
    env = {**stack.env, "DJANGO_SITE_ORIGINS": f"http://127.0.0.1:{port}"}
    server = start(
        uvicorn_command(port, "--no-access-log", "--log-level", "warning"),
        port=port,
        env=env,
        log_path=log_path,
        new_session=True,
    )
    stack.asgi[slot] = server
    return server


def start_both_asgi(stack: Stack) -> None:
    servers = [start_asgi(stack, slot) for slot in SLOTS]
    for server in servers:
        server.wait_until_ready("/healthz", timeout=60)


def kill_hard(process: subprocess.Popen[bytes]) -> tuple[int, bool]:
    """`kill -9` a child; its pid and whether it is gone (reaped, no such process left)."""
    pid = process.pid
    if process.poll() is None:
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return pid, True
    return pid, False


# --- Celery --------------------------------------------------------------------------------


def worker_command(stack: Stack) -> list[str]:
    celery = str(Path(sys.executable).with_name("celery"))
    return [
        *(celery, "-A", "esc_platform", "worker", "-P", "solo"),
        *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        *("-Q", stack.queue, "-n", stack.node, "--loglevel", "INFO"),
    ]


def start_worker(stack: Stack, chunk_size: int, timeout: float = 60) -> ServerProcess:
    """A real worker on the bench's own queue; returns once its log says it is ready."""
    if not stack.queue:
        suffix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        stack.queue, stack.node = f"chaos-{suffix}", f"chaos-{suffix}@{HOST}"
    env = {**stack.env, "LOG_LEVEL": "INFO", "QUALITY_CONTROL_CHUNK_SIZE": str(chunk_size)}
    log_path = stack.log_path("celery")
    stack.worker_logs.append(log_path)
    worker = start(worker_command(stack), port=0, env=env, log_path=log_path, new_session=True)
    stack.worker = worker
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise ServerError(f"the Celery worker exited:\n{worker.log_tail()}")
        if " ready." in log_path.read_text(errors="replace"):
            return worker
        time.sleep(0.2)
    raise ServerError(f"the Celery worker was not ready in {timeout:.0f} s:\n{worker.log_tail()}")


def send_task(stack: Stack, name: str, kwargs: dict[str, Any]) -> str:
    """Queue a task by name on the worker's queue (as beat would); its id."""
    from celery import Celery

    app = Celery("chaos-bench", broker=stack.broker_url)
    try:
        return str(app.send_task(name, kwargs=kwargs, queue=stack.queue).id)
    finally:
        app.close()
