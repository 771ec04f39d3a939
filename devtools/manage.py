"""Run a manage.py command in a child process, for the tests and the benches that start servers.

The child runs in the project directory with exactly the environment given (its database, its
Redis), so it works on the same data as the servers started through devtools.server. Standard
library only, so it imports without Django.
"""

from __future__ import annotations

import subprocess
import sys

from devtools.server import PROJECT_DIR


class ManageError(RuntimeError):
    """The command exited with a non-zero status; the message carries what it printed."""


def run_manage(*arguments: str, env: dict[str, str], timeout: float = 600) -> str:
    """`python manage.py ARGUMENTS`: its standard output, or ManageError with both outputs.

    A command still running after `timeout` seconds is killed (subprocess.TimeoutExpired).
    """
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise ManageError(f"manage.py {arguments[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
