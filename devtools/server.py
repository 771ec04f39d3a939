"""Run a server as a child process on a free 127.0.0.1 port: start, wait until ready, stop.

One implementation for the browser tests (tests/browser_support.py starts uvicorn against the
test database) and the benchmarks (bench/chatload starts uvicorn and the bare relay)::

    server = start(uvicorn_command(port := free_port()), port=port, env=env)
    try:
        server.wait_until_ready("/healthz", timeout=30)
        ...  # talk to server.base_url
    finally:
        server.stop()

The child's output goes to a log file: the caller's, or a temporary one removed by stop(). When
the child exits early or never answers, ServerError carries the end of that log. Standard
library only, so it imports without Django.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ASGI_APPLICATION = "esc_platform.asgi:application"


class ServerError(RuntimeError):
    """The server exited, or did not answer in time; the message ends with its log."""


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_command(port: int, *options: str) -> list[str]:
    """The command line of our ASGI application under uvicorn, on HOST:port."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        ASGI_APPLICATION,
        "--host",
        HOST,
        "--port",
        str(port),
        *options,
    ]


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    owns_log: bool = False

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def answers(self, path: str | None) -> bool:
        """Whether the port accepts a connection (path None) or GET path returns 200."""
        try:
            if path is None:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return True
            connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                connection.request("GET", path)
                return connection.getresponse().status == 200
            finally:
                connection.close()
        except (OSError, http.client.HTTPException):
            return False

    def wait_until_ready(self, path: str | None = "/healthz", *, timeout: float = 30.0) -> None:
        """Return once the server answers (see answers()); raise ServerError if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"the server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.answers(path):
                return
            time.sleep(0.1)
        raise ServerError(f"the server did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Terminate the server (kill it if it lingers); remove the log if it is ours."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.owns_log:
            self.log_path.unlink(missing_ok=True)


def start(
    command: list[str],
    *,
    port: int,
    env: dict[str, str],
    log_path: Path | None = None,
    new_session: bool = False,
) -> ServerProcess:
    """Start `command` in the project directory, its output into log_path (or a temporary file).

    new_session: run it in a session of its own, so a Ctrl-C in the terminal reaches only the
    caller, which then stops it (the benchmarks). Left False, the child stays in the caller's
    process group, so killing that group also stops the server (the tests).
    """
    owns_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="esc-server-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
    return ServerProcess(process, port, log_path, owns_log)
