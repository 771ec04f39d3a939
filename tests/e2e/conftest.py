"""Fixtures of the end-to-end test: the live server, Chromium, and a real Celery worker."""

from __future__ import annotations

from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tests.celery_support import celery_worker_process  # noqa: F401
