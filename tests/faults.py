"""Faults for browser tests: a network that goes silent, a server that dies, Redis that stops.

Three pieces, each owned by the test that starts it (never the machine's own services):

- `BlackholeProxy`: a TCP proxy on a free 127.0.0.1 port in front of a server. `blackhole()`
  takes the network away silently, as a lost Wi-Fi does: the connections stay open but no byte
  goes through in either direction (nor a close), and a connection opened meanwhile is held
  without ever reaching the server. `restore()` brings it back: what was held on the open
  connections flows again (TCP retransmits across an outage this short), and the connections
  opened in the dark are dropped, as their handshakes would have timed out. A page opened at
  `proxy.base_url` talks to the server only through it. (Playwright's `set_offline` does not
  cut websockets in Chromium.)
- `RedisServer`: a private `redis-server` on a free port, no persistence (the PrivateRedis of
  devtools/redis_server.py), stopped with `redis-cli shutdown nosave` and started again on the
  same port.
- `ChatServer`: uvicorn (devtools/server.py) on a fixed free port against the test's own
  database (tests/browser_support.server_environment) with extra environment; `kill()` is
  kill -9, and `start()` again brings it back on the same port.

The `faults` fixture (`faults_fixture` here) makes them and tears all of them down after the
test (printing the servers' logs, which pytest shows when the test failed)::

    def test_it(faults: Faults, browser: Browser) -> None:
        redis = faults.redis()
        server = faults.server(REDIS_URL=redis.url, CHAT_HEARTBEAT_SECONDS="2")
        proxy = faults.proxy(server)
        ...

Under CI=true a missing redis-server fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections

from devtools import redis_server
from devtools.redis_server import PrivateRedis
from devtools.server import HOST, ServerProcess, free_port, start, uvicorn_command
from tests.browser_support import SERVER_START_TIMEOUT, server_environment
from tests.services_probe import require

REDIS_SERVER = shutil.which(redis_server.REDIS_SERVER)
REDIS_START_TIMEOUT = 10.0


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.1
) -> None:
    """Poll `condition()` until it is true; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(every)


# --- the network ---------------------------------------------------------------------------


class _Link:
    """One client connection and its upstream: two pumps, closed when both are done."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self._done = 0
        self._lock = threading.Lock()

    def pump_done(self) -> None:
        with self._lock:
            self._done += 1
            last = self._done == 2
        if last:
            self.close()

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class BlackholeProxy:
    """A TCP proxy in front of HOST:upstream_port whose network can be taken away silently."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._held: list[socket.socket] = []  # opened while blackholed: never forwarded
        self.forwarded = 0  # connections forwarded so far
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def blackholed(self) -> bool:
        return not self._flowing.is_set()

    def blackhole(self) -> None:
        """Forward nothing from now on, close nothing; hold new connections unanswered."""
        self._flowing.clear()

    def restore(self) -> None:
        """Forward again; drop the connections opened in the dark (their SYNs were lost)."""
        with self._lock:
            held, self._held = self._held, []
            self._flowing.set()
        for sock in held:
            sock.close()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        self._listener.close()
        self._acceptor.join(timeout=2)
        with self._lock:
            links, self._links = self._links, []
            held, self._held = self._held, []
        for link in links:
            link.close()
        for sock in held:
            sock.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                if not self._flowing.is_set():
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection((HOST, self.upstream_port), timeout=5)
            except OSError:
                client.close()  # nothing listens there (the server is down): refused
                continue
            upstream.settimeout(None)
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
                self.forwarded += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, link), daemon=True).start()

    def _wait_flowing(self) -> bool:
        self._flowing.wait()  # close() sets it too
        return not self._closed

    def _pump(self, src: socket.socket, dst: socket.socket, link: _Link) -> None:
        try:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                # What was read in the dark (bytes, an end, a reset) waits for the light.
                if not self._wait_flowing() or not data:
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        finally:
            link.pump_done()


# --- Redis ---------------------------------------------------------------------------------


def require_redis_server() -> None:
    require(
        "redis-server",
        redis_server.available(with_cli=True),
        "install redis-server and redis-cli (the fault tests run a private one)",
    )


class RedisServer(PrivateRedis):
    """devtools.redis_server.PrivateRedis as the fault tests drive it: `stop()` is
    `redis-cli shutdown nosave`, and `start()` brings this one back on its port."""

    def start(self) -> RedisServer:  # an instance's: the class's would make a new one
        self.restart(REDIS_START_TIMEOUT)
        return self

    def stop(self) -> None:
        self.shutdown()


# --- the chat server ---------------------------------------------------------------------------


class ChatServer:
    """uvicorn against the test database on one port, which it keeps across restarts."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="esc-fault-server-"))
        self._starts = 0
        self.process: ServerProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ChatServer:
        """Start it (again) on its port and wait until /healthz answers."""
        assert self.process is None or self.process.process.poll() is not None
        self._starts += 1
        log_path = self._dir / f"uvicorn-{self._starts}.log"
        self.process = start(
            uvicorn_command(self.port, "--log-level", "warning"),
            port=self.port,
            env=self.env,
            log_path=log_path,
        )
        self.process.wait_until_ready("/healthz", timeout=SERVER_START_TIMEOUT)
        return self

    def kill(self) -> None:
        """kill -9: no shutdown, no close frames; the kernel resets its connections."""
        assert self.process is not None
        process = self.process.process
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def logs(self) -> str:
        parts = []
        for path in sorted(self._dir.glob("uvicorn-*.log")):
            text = path.read_text(errors="replace").strip()
            parts.append(f"--- {path.name} ---\n{text or '(empty)'}")
        return "\n".join(parts)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


# Heartbeats short enough for a test, kept in the ratios of the defaults (5, 12, 15 s).
FAST_HEARTBEAT = {
    "CHAT_HEARTBEAT_SECONDS": "2",
    "CHAT_HEARTBEAT_TIMEOUT_SECONDS": "6",
    "CHAT_SYNC_SECONDS": "4",
}


class Faults:
    """What one test started; `close()` ends all of it, servers first."""

    def __init__(self) -> None:
        self._servers: list[ChatServer] = []
        self._proxies: list[BlackholeProxy] = []
        self._redis: list[RedisServer] = []

    def redis(self) -> RedisServer:
        require_redis_server()
        redis = RedisServer(free_port())
        self._redis.append(redis)
        return redis.start()

    def server(self, **extra_env: str) -> ChatServer:
        """A started chat server with the fast heartbeat and `extra_env` (REDIS_URL unset:
        the in-memory channel layer)."""
        env = server_environment()
        env.pop("REDIS_URL", None)
        env.update(FAST_HEARTBEAT)
        env.update(extra_env)
        server = ChatServer(env)
        self._servers.append(server)
        return server.start()

    def proxy(self, server: ChatServer) -> BlackholeProxy:
        proxy = BlackholeProxy(server.port)
        self._proxies.append(proxy)
        return proxy

    def close(self) -> None:
        for proxy in self._proxies:
            proxy.close()
        for server in self._servers:
            server.stop()
            print(server.logs())
            server.close()
        for redis in self._redis:
            redis.stop()


@pytest.fixture(name="faults")
def faults_fixture(transactional_db: None) -> Iterator[Faults]:
    """What the test starts through it (servers, proxies, Redis) is stopped after the test.

    A test module imports it as `from tests.faults import faults_fixture  # noqa: F401` and
    asks for `faults`."""
    made = Faults()
    try:
        yield made
    finally:
        made.close()
        connections.close_all()
