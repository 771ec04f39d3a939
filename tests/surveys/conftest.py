from __future__ import annotations

# Browser tests in this package use the shared ASGI server and Chromium launch options.
from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
