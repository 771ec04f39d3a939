"""The browser's Django session on a websocket: read when first used, never saved.

Channels' AuthMiddlewareStack loads the session and the user for every socket before the
consumer starts, in asgiref's one thread-sensitive thread, so every connecting socket of a
process queued behind the others for a query most of them never need; and it wraps every
frame sent with a check that only matters to HTTP responses (a websocket never saves a
session). Here scope["session"] is the engine's SessionStore for the cookie's key, loaded by
whoever reads it first: chat.live_store reads the row in its own round trip, the thread path
through crowd.selectors, and staff's watch socket through channels.auth.get_user.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie


def session_key(scope: dict[str, Any]) -> str | None:
    """The session cookie's value in the handshake's headers, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
    return None


class WebsocketSession:
    """ASGI middleware: scope["session"] for the inner application (websockets only)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        scope = {**scope, "session": store(session_key(scope))}
        return await self.inner(scope, receive, send)
