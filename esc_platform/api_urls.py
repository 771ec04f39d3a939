"""API routes of every app under /api/; each app keeps its own `api_urls.py`."""

from __future__ import annotations

from django.urls import include, path, re_path

from esc_platform import api_errors

urlpatterns = [
    path("tutorial/", include("tutorial.api_urls")),
    path("chat/", include("chat.api_urls")),
    # Anything else under /api/ is a JSON 404, not Django's HTML page.
    re_path(r"^(?P<unmatched>.*)$", api_errors.not_found),
]
