"""Fixtures for the tutorial tests. Browser fixtures come from tests/browser_support."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client

from crowd.models import CollectionRun, Worker
from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tutorial.models import SubTask


@pytest.fixture
def content(db: None) -> list[SubTask]:
    """The real tutorial content, loaded the way `make run` loads it."""
    call_command("load_tutorial", verbosity=0)
    return list(SubTask.objects.order_by("order"))


@pytest.fixture
def run(db: None) -> CollectionRun:
    return CollectionRun.get_default()


EnterFn = Callable[..., tuple[Client, Worker]]


@pytest.fixture
def enter(db: None) -> EnterFn:
    """Arrive through the real entry link and consent page; return the client and the worker."""

    def _enter(
        pid: str, role: str = "supporter", client: Client | None = None
    ) -> tuple[Client, Worker]:
        client = client or Client()
        response = client.get(
            f"/start/?role={role}&PROLIFIC_PID={pid}&STUDY_ID=s1&SESSION_ID=x{pid}"
        )
        assert response.status_code == 302
        worker = Worker.objects.get(external_id=pid)
        if worker.stage == Worker.Stage.CONSENT:
            response = client.post("/consent/", {"agree": "yes"})
            assert response.status_code == 302
            worker.refresh_from_db()
        return client, worker

    return _enter
