"""Fixtures for the analytics tests: the browser ones come from tests/browser_support."""

from __future__ import annotations

from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
