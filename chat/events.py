"""Sending events to a conversation's group: only committed writes are ever relayed."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def group_name(conversation_id: int) -> str:
    return f"chat.conversation.{conversation_id}"


def _group_message(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "chat.event", "event": event}


def send_after_commit(
    conversation_id: int, event: dict[str, Any], outbox: list[dict[str, Any]] | None = None
) -> None:
    """Relay an event to the conversation's group once (and only if) the write committed.

    With an `outbox`, the committed event is put there instead, for a caller on the event loop
    to relay itself: a worker thread blocking on async_to_sync for every message costs a
    thread hop and holds a pool thread while Redis answers.
    """

    def send() -> None:
        if outbox is not None:
            outbox.append(event)
            return
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group_name(conversation_id), _group_message(event))

    # robust: the write is committed whatever the relay does; a failed relay is logged, and
    # pages catch up by seq (chat.delivery).
    transaction.on_commit(send, robust=True)


async def relay(conversation_id: int, events: list[dict[str, Any]]) -> None:
    """Send committed events (from an outbox of send_after_commit) to the conversation's group."""
    layer = get_channel_layer()
    if layer is None:
        return
    for event in events:
        await layer.group_send(group_name(conversation_id), _group_message(event))
