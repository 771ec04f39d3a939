"""Fixtures of the authenticity tests: the browser tests' server and Chromium."""

from __future__ import annotations

from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
