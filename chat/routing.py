"""Websocket routes of the chat (see README.md ("Matching and the live chat") for the protocol)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from chat.consumers import ChatConsumer, WatchConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi()),
    path("ws/chat/<int:conversation_id>/watch/", WatchConsumer.as_asgi()),
]
