"""The processes the bench runs and measures: the ESC chat server and the bare relay."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from devtools.server import PROJECT_DIR, ServerProcess, free_port, start

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


def _stat_fields(pid: int) -> list[str]:
    # Fields after the command name (which may hold spaces): field 3 of stat comes first.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    """The processes whose parent is pid (the worker processes of a server), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cpu_seconds(proc: subprocess.Popen[bytes] | None) -> float:
    """CPU time (user + system) a server has used so far, its worker processes included.

    From /proc; 0 where unavailable. Unlike latency, this cost per message barely depends on
    what else the machine is running.
    """
    if proc is None:
        return 0.0
    total = 0
    for pid in (proc.pid, *_children(proc.pid)):
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        # utime and stime: fields 14 and 15 of stat.
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def start_chat_server(env: dict[str, str], log_path: Path, workers: int) -> ServerProcess:
    """The production server (esc_platform.serve) with `workers` processes on a free port."""
    port = free_port()
    # Production settings name their origins: this server's own is where the bench's clients
    # come from (the websocket origin check, esc_platform/origins.py).
    env = {**env, "DJANGO_SITE_ORIGINS": f"http://127.0.0.1:{port}"}
    command = [sys.executable, "-m", "esc_platform.serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    command += ["--no-access-log", "--log-level", "warning"]
    # A session of its own: a Ctrl-C in the terminal reaches only us, and we stop it.
    server = start(command, port=port, env=env, log_path=log_path, new_session=True)
    server = _ready(server, "/healthz", timeout=60)
    # /healthz answers as soon as one process does: wait for all of them.
    deadline = time.monotonic() + 60
    while workers > 1 and len(_children(server.process.pid)) < workers:
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server did not start {workers} worker processes")
        time.sleep(0.1)
    if workers > 1:
        time.sleep(1.0)  # the last one started is importing Django
        while not server.answers("/healthz"):
            time.sleep(0.1)
    return server


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
