"""ASGI middleware: a websocket whose set-up fails still gets a close code the page understands.

Channels subscribes each consumer to the channel layer before `connect` runs, so with Redis
down the consumer raises before it could accept, and the server answers the handshake with
HTTP 500 (the page sees only "abnormal closure"). This accepts and closes with 4503 instead,
which the chat page treats as "try again shortly".
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

CLOSE_UNAVAILABLE = 4503


class CloseOnFailure:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        state = {"accepted": False, "closed": False}

        async def tracked_send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception:
            if state["closed"]:
                raise
            logger.warning(
                "websocket set-up failed; closing with %s", CLOSE_UNAVAILABLE, exc_info=True
            )
            try:
                if not state["accepted"]:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})
            except Exception:  # the client is already gone: nothing left to tell it
                logger.debug("could not close a failed websocket", exc_info=True)
