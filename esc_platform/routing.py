"""Websocket routes of every app, gathered in one list for the ASGI router.

The last route takes every path the others do not: its socket is accepted and closed with
4404, a close code the page understands, where an unmatched path used to end the handshake
with a server error (docs/protocol.md, "Close codes").
"""

from __future__ import annotations

from typing import Any

from django.urls import re_path

from chat.routing import websocket_urlpatterns as chat_routes

CLOSE_NOT_FOUND = 4404


async def close_not_found(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A websocket nobody serves: accept it, then close it 4404 (no channel layer needed)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_NOT_FOUND})


# Channels' router takes any ASGI application where Django's types expect a view.
_catch_all: Any = close_not_found
websocket_urlpatterns: list[Any] = [*chat_routes, re_path(r"", _catch_all)]
