"""Fixtures for the quality tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.test import override_settings

from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tests.celery_support import celery_worker_process  # noqa: F401
from tests.services_probe import require


@pytest.fixture
def exporter() -> None:
    """Releases use chat's export service (chat/dataset/exporting.py, another area's code)."""
    present = importlib.util.find_spec("chat.dataset") is not None and (
        importlib.util.find_spec("chat.dataset.exporting") is not None
    )
    require("the export service", present, "chat/dataset/exporting.py is not there yet")


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "releases"
    with override_settings(ESCONV_EXPORT_DIR=folder):
        yield folder
