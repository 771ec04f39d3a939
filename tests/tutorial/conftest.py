"""Fixtures for the tutorial tests. Browser fixtures come from tests/browser_support.

Workers arrive through tests.crowd.factories.enter (the entry link and the consent page, in
the cast's clients); the quiz is answered through the pages (tests/tutorial/helpers.py) or the
services (tests/tutorial/factories.py).
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from crowd.models import CollectionRun
from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tutorial.models import SubTask


@pytest.fixture
def content(db: None) -> list[SubTask]:
    """The real tutorial content, loaded the way `make run` loads it."""
    call_command("load_tutorial", verbosity=0)
    return list(SubTask.objects.order_by("order"))


@pytest.fixture
def run(db: None) -> CollectionRun:
    """The default run: the one an entry link naming no run joins."""
    return CollectionRun.get_default()
