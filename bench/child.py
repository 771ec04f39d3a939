"""A command run in a child process, timed, with its own peak memory (benches only)."""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path


def peak_rss_kib(pid: int) -> int | None:
    """A process's high-water resident set (VmHWM) in KiB, or None without /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def run_measured(
    command: list[str], env: dict[str, str], log: Path, *, cwd: Path
) -> tuple[float, float]:
    """Run `command`; return (seconds, the child's peak RSS in MB). Output goes to `log`.

    The peak is the child's own VmHWM, polled from /proc while it runs: it is monotonic, so
    the last reading is the peak. getrusage(RUSAGE_CHILDREN) is only a fallback, because the
    kernel carries the parent's high-water mark from before exec() into the child's figure.
    A failed command ends the bench with its output.
    """
    started = time.perf_counter()
    with log.open("w") as sink:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=sink)
        peak_kib = 0
        while child.poll() is None:
            peak_kib = max(peak_kib, peak_rss_kib(child.pid) or 0)
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{command[2]} failed ({child.returncode}):\n{log.read_text()}")
    if not peak_kib:  # no /proc: an upper bound (ru_maxrss is in KiB on Linux)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024
