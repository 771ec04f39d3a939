"""Chat test fixtures: channel layers, and clean-up of what async tests and caches leave.

Conversations are built by tests/chat/factories.py; websocket helpers are in
tests/chat/sockets.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.backends import utils as django_cursors
from psycopg import AsyncClientCursor

from chat import copies
from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tests.services_probe import require_redis


def use_channel_layer(settings: Any, kind: str) -> None:
    if kind == "memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        return
    url = require_redis().rstrip("/")
    # A private database number and a unique prefix: other test runs share this Redis.
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": f"{base}/5", "socket_timeout": 30, "max_connections": 10000}],
                "prefix": f"esc-chat-test-{uuid.uuid4().hex[:8]}",
            },
        }
    }


@pytest.fixture(params=["memory", "redis"])
def channel_layer(request: pytest.FixtureRequest, settings: Any) -> str:
    """Run a websocket test on the in-memory layer and on Redis (pub/sub), as in production."""
    use_channel_layer(settings, request.param)
    return str(request.param)


@pytest.fixture
def redis_channel_layer(settings: Any) -> str:
    use_channel_layer(settings, "redis")
    return "redis"


@pytest.fixture(autouse=True)
def close_executor_connections() -> Iterator[None]:
    """Close the DB connection that async tests leave in asgiref's sync thread.

    Otherwise PostgreSQL cannot drop the test database at the end ("being accessed").
    """
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _fresh_tutorial_examples() -> Iterator[None]:
    # The copied-example check caches tutorial examples per process; a test's SubTasks vanish
    # with its rolled-back transaction, without the delete signal that would clear the cache.
    copies.forget_tutorial_examples()
    yield
    copies.forget_tutorial_examples()


class Statements:
    """Counts the statements sent: the event loop's (psycopg) and the ORM's (any thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.event_loop: list[str] = []
        self.orm: list[str] = []


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    seen = Statements()
    real_async = AsyncClientCursor.execute
    real_orm = django_cursors.CursorWrapper.execute

    async def counted_async(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        seen.event_loop.append(str(query))
        return await real_async(self, query, params, **kwargs)

    def counted_orm(self: Any, sql: Any, params: Any = None) -> Any:
        with seen.lock:
            seen.orm.append(str(sql))
        return real_orm(self, sql, params)

    monkeypatch.setattr(AsyncClientCursor, "execute", counted_async)
    monkeypatch.setattr(django_cursors.CursorWrapper, "execute", counted_orm)
    yield seen
