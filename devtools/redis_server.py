"""A private redis-server on a free 127.0.0.1 port, for tests and benches that break Redis.

Never the machine's own Redis: each one is started here, on its own port, with nothing saved,
and only it is ever stopped::

    redis = PrivateRedis.start()
    try:
        ...  # settings point at redis.url
        redis.stop()  # an outage: killed at once
        redis.restart()  # the same port again
        redis.shutdown()  # an outage: `redis-cli shutdown nosave`, as an operator stops it
    finally:
        redis.stop()

One implementation for tests/chat/test_delivery.py (through the async channel layer) and the
browser fault tests (tests/faults.py). Standard library only, so it imports without Django.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

from devtools.server import HOST, free_port

REDIS_SERVER = "redis-server"
REDIS_CLI = "redis-cli"


class RedisServerError(RuntimeError):
    """redis-server is missing, or did not start in time."""


def available(*, with_cli: bool = False) -> bool:
    """Whether redis-server (and, with_cli, redis-cli for shutdown()) can be run."""
    programs = (REDIS_SERVER, REDIS_CLI) if with_cli else (REDIS_SERVER,)
    return all(shutil.which(program) is not None for program in programs)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, port: int | None = None) -> PrivateRedis:
        """A new one on `port` (a free one by default), started and answering PING."""
        redis = cls(port or free_port())
        redis.restart()
        return redis

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def answers(self) -> bool:
        """Whether something on this port answers PING right now."""
        return _answers(self.port)

    def restart(self, timeout: float = 10) -> None:
        """Start redis-server on this port (again) and wait until it answers PING; nothing if
        it is running already."""
        if self.running:
            return
        if not available():
            raise RedisServerError(f"{REDIS_SERVER} is not installed")
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", HOST]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RedisServerError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it at once (an outage, or the end): nothing is saved."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def shutdown(self) -> None:
        """`redis-cli shutdown nosave`, then wait until the process is gone (killed if it
        lingers): Redis closes its clients itself, as when an operator stops it."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            subprocess.run(
                [REDIS_CLI, "-h", HOST, "-p", str(self.port), "shutdown", "nosave"],
                capture_output=True,
                timeout=10,
                check=False,
            )
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.process = None
