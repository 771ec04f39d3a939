"""The settlement tests run against the crowd sites' local servers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.providers.mturk_server import MTurkServer, aws_credentials, mturk_server  # noqa: F401
from tests.providers.prolific_server import ProlificServer, prolific_server  # noqa: F401


@pytest.fixture
def connected(
    prolific_server: ProlificServer,  # noqa: F811
    mturk_server: MTurkServer,  # noqa: F811
    settings: Any,
) -> tuple[ProlificServer, MTurkServer]:
    """The platform pointed at both local servers, as a lab's environment points it at the
    real sites, with calls that give up quickly."""
    settings.PROLIFIC_API_URL = prolific_server.url
    settings.PROLIFIC_API_TOKEN = prolific_server.token
    settings.MTURK_ENDPOINT_URL = mturk_server.url
    settings.CROWD_SITE_TIMEOUT_SECONDS = 2
    return prolific_server, mturk_server
