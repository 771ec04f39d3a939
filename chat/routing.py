"""Websocket routes of the chat (the protocol is described in docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from chat.consumers import ChatConsumer, WatchConsumer
from chat.screening import SafetyAlertsConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi()),
    path("ws/chat/<int:conversation_id>/watch/", WatchConsumer.as_asgi()),
    path("ws/staff/safety/", SafetyAlertsConsumer.as_asgi()),
]
