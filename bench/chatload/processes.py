"""The processes the bench runs and measures: the ESC chat server and the bare relay."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from devtools.server import PROJECT_DIR, ServerProcess, free_port, start, uvicorn_command

RELAY_SCRIPT = PROJECT_DIR / "bench" / "relay.py"


def raise_open_file_limit() -> int:
    """Two sockets per pair here, two more in the server: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def cpu_seconds(proc: subprocess.Popen[bytes] | None) -> float:
    """CPU time (user + system) a process has used so far, from /proc; 0 where unavailable.

    Unlike latency, this cost per message barely depends on what else the machine is running.
    """
    if proc is None:
        return 0.0
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # Fields 14 and 15 of stat (utime, stime); the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_chat_server(env: dict[str, str], log_path: Path) -> ServerProcess:
    """uvicorn with the ESC application on a free port, answering /healthz."""
    port = free_port()
    # Production settings name their origins: this server's own is where the bench's clients
    # come from (the websocket origin check, esc_platform/origins.py).
    env = {**env, "DJANGO_SITE_ORIGINS": f"http://127.0.0.1:{port}"}
    # A session of its own: a Ctrl-C in the terminal reaches only us, and we stop it.
    server = start(
        uvicorn_command(port, "--no-access-log", "--log-level", "warning"),
        port=port,
        env=env,
        log_path=log_path,
        new_session=True,
    )
    return _ready(server, "/healthz", timeout=60)


def start_relay(env: dict[str, str], log_path: Path) -> ServerProcess:
    """bench/relay.py on a free port, accepting connections."""
    port = free_port()
    relay = start(
        [sys.executable, str(RELAY_SCRIPT), "--port", str(port)],
        port=port,
        env=env,
        log_path=log_path,
        new_session=True,
    )
    return _ready(relay, None, timeout=30)


def _ready(server: ServerProcess, path: str | None, timeout: float) -> ServerProcess:
    """Wait until it answers; stop it (and let the error through) if it never does."""
    try:
        server.wait_until_ready(path, timeout=timeout)
    except BaseException:
        server.stop()
        raise
    return server


def stop(server: ServerProcess | None) -> None:
    if server is not None:
        server.stop()
