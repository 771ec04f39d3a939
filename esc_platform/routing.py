"""Websocket routes of every app, gathered in one list for the ASGI router."""

from __future__ import annotations

from typing import Any

from chat.routing import websocket_urlpatterns as chat_routes

websocket_urlpatterns: list[Any] = [*chat_routes]
