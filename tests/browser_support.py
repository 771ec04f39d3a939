"""Shared fixtures for browser tests: a real ASGI server and Debian's Chromium.

How to use (in a test package's conftest.py)::

    from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401

and in the tests::

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_it_works(asgi_server: str, page: Page) -> None:
        page.goto(asgi_server + "/start/?role=supporter&PROLIFIC_PID=alice")

`page`, `context` and `browser` come from pytest-playwright; this module only overrides its
`browser_type_launch_args` so it launches /usr/bin/chromium with the flags these machines need.

Database access from the test body. Playwright's sync API keeps an asyncio loop running in the
test thread, and Django refuses ORM calls there (`SynchronousOnlyOperation`). We chose the
simplest way out: the launch-args fixture sets `DJANGO_ALLOW_ASYNC_UNSAFE=true` in the test
process. It is only requested by browser tests, and browser tests run in their own pytest
invocation (`pytest -m browser`), so the relaxed check never applies to other tests' processes.
The server subprocess never inherits the variable. Test bodies may therefore use the ORM (and our
services) directly, between page actions.

The server is `uvicorn esc_platform.asgi:application` on a free 127.0.0.1 port (started, awaited
and stopped by devtools/server.py, the helper the benchmarks use too), using the SAME test
database as the test (so tests need `django_db(transaction=True)`: data must be committed to be
seen by the other process). It uses the in-memory channel layer (one process) unless REDIS_URL
is set, in which case it is passed through. Teardown stops the server and closes the test's DB
connections so PostgreSQL can drop the test database.

Chromium missing: the tests skip locally and fail under CI=true (tests/services_probe.require).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import pytest
from django.db import connection, connections

from devtools.server import free_port, start, uvicorn_command
from tests.services_probe import require

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 30.0


def server_environment() -> dict[str, str]:
    """The environment of the server process: same settings, the test's own database."""
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "esc_platform.settings"
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(settings_dict["NAME"])
        if not name or name == ":memory:" or "mode=memory" in name:
            raise RuntimeError(
                "browser tests need a file test database on SQLite (set SQLITE_TEST_PATH)"
            )
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = name
    else:
        database_url = os.environ.get("DATABASE_URL", "")
        if not database_url:
            raise RuntimeError("a non-SQLite test database needs DATABASE_URL to be set")
        env["DATABASE_URL"] = (
            urlparse(database_url)._replace(path="/" + str(settings_dict["NAME"])).geturl()
        )
    return env


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[str]:
    """Start uvicorn on a free port against the test database; yield its base URL."""
    port = free_port()
    server = start(
        uvicorn_command(port, "--log-level", "warning"), port=port, env=server_environment()
    )
    try:
        server.wait_until_ready("/healthz", timeout=SERVER_START_TIMEOUT)
        yield server.base_url
    finally:
        server.stop()
        connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    require(
        "Chromium",
        os.path.exists(CHROMIUM_PATH),
        f"{CHROMIUM_PATH} is missing (never run `playwright install`)",
    )
    # See the module docstring: the ORM may run in the browser test's own thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM_PATH,
        "args": CHROMIUM_ARGS,
    }


def save_screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot when ESC_SHOTS_DIR is set (never into the repository)."""
    directory = os.environ.get("ESC_SHOTS_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def enter_as(
    page: Any, base_url: str, *, role: str, prolific_pid: str, consent: bool = True
) -> None:
    """Arrive from the crowd site with a Prolific-style link and, by default, give consent."""
    page.goto(
        f"{base_url}/start/?role={role}&PROLIFIC_PID={prolific_pid}"
        f"&STUDY_ID=study1&SESSION_ID=s-{prolific_pid}"
    )
    if consent:
        page.get_by_label("I have read this and agree to take part.").check()
        page.get_by_role("button", name="Continue").click()


T = TypeVar("T")


def off_the_event_loop(work: Callable[[], T]) -> T:
    """Run `work` (chat services) in a thread of its own, as the server would.

    Their live events leave through async_to_sync after commit, which refuses to run in the
    test's thread, where Playwright keeps an event loop running.
    """

    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
