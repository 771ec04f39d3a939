"""Websocket helpers of the chat tests: connect as a session, read frames, run ORM code.

Sessions come from the real entry link (tests.crowd.factories.session_cookie) or from a real
staff login (`login_cookie`).
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

# The development server's origin, one of the default SITE_ORIGINS (esc_platform/origins.py).
ORIGIN = (b"origin", b"http://127.0.0.1:8000")

# Like sync_to_async, and closes the thread's DB connection afterwards (PostgreSQL drops the
# test database only when no connection is left).
adb = database_sync_to_async


def login_cookie(user: User) -> str:
    """The session cookie of a user logged in through Django's own login (staff, or not)."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def empty_session_cookie() -> str:
    """A browser with a session that is bound to nobody."""
    store = SessionStore()
    store.create()
    return f"sessionid={store.session_key}"


async def connect(
    path: str, cookie: str | None = None, *, expect_accept: bool = True
) -> WebsocketCommunicator:
    from esc_platform.asgi import application

    headers = [ORIGIN]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected is expect_accept
    return communicator


async def receive(communicator: WebsocketCommunicator, timeout: float = 3) -> dict[str, Any]:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(
    communicator: WebsocketCommunicator, frame_type: str, timeout: float = 3
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read frames until one of `frame_type`; return it and everything read before it."""
    before: list[dict[str, Any]] = []
    while True:
        frame = await receive(communicator, timeout)
        if frame["type"] == frame_type:
            return frame, before
        before.append(frame)


async def receive_live_message(
    communicator: WebsocketCommunicator, timeout: float = 3
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read frames until a live message (one with its `status`, unlike a replayed one)."""
    before: list[dict[str, Any]] = []
    while True:
        frame = await receive(communicator, timeout)
        if frame["type"] == "message" and "status" in frame:
            return frame, before
        before.append(frame)


async def drain(communicator: WebsocketCommunicator, timeout: float = 0.3) -> list[dict[str, Any]]:
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await receive(communicator))
    return frames


async def join(
    cookie: str, conversation_id: int, after: int = 0
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator = await connect(f"/ws/chat/{conversation_id}/?after={after}", cookie)
    hello = await receive(communicator)
    assert hello["type"] == "hello", hello
    return communicator, hello


def terminate_chat_connections() -> int:
    """What a database restart does to the chat's pooled async connections (chat.live_store):
    killed. Returns how many there were."""
    from django.db import connection

    from chat import live_store

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [live_store.APPLICATION_NAME],
        )
        return int(cursor.fetchone()[0])
