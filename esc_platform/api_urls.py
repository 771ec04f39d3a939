"""API routes of every app under /api/; each app keeps its own `api_urls.py`."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("tutorial/", include("tutorial.api_urls")),
    path("chat/", include("chat.api_urls")),
]
