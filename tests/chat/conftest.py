"""Chat test helpers: named workers built through our services, sessions, channel layers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from chat import copies, matching
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.selectors import SESSION_KEY
from crowd.services import enter_waiting_room, give_consent
from surveys.models import PreChatSurvey
from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tests.services_probe import require_redis

ORIGIN = (b"origin", b"http://127.0.0.1")


def make_run(**overrides: Any) -> CollectionRun:
    name = overrides.pop("name", f"run-{uuid.uuid4().hex[:8]}")
    return CollectionRun.objects.create(name=name, **overrides)


def _worker(run: CollectionRun, role: str, name: str) -> Worker:
    worker = Worker.objects.create(
        run=run,
        role=role,
        provider=Worker.Provider.PROLIFIC,
        external_id=name,
        qualification=(
            Worker.Qualification.NOT_STARTED
            if role == vocabulary.SUPPORTER
            else Worker.Qualification.NOT_APPLICABLE
        ),
    )
    return give_consent(worker)


def make_waiting_seeker(run: CollectionRun, name: str = "sam-seeker") -> Worker:
    """A seeker who consented and filled the pre-chat survey, now in the waiting room."""
    seeker = _worker(run, vocabulary.SEEKER, name)
    PreChatSurvey.objects.create(
        worker=seeker,
        run=run,
        problem_type="job crisis",
        emotion_type="anxiety",
        initial_emotion_intensity=4,
        situation="I lost my job last week and I keep worrying about paying the rent.",
        experience_type="Current Experience",
    )
    return enter_waiting_room(seeker)


def make_supporter(
    run: CollectionRun,
    name: str = "alice-supporter",
    qualification: str = Worker.Qualification.QUALIFIED,
    *,
    waiting: bool = True,
) -> Worker:
    """A supporter with the given training result (the tutorial's own tests cover the quiz)."""
    supporter = _worker(run, vocabulary.SUPPORTER, name)
    Worker.objects.filter(pk=supporter.pk).update(qualification=qualification)
    supporter.refresh_from_db()
    return enter_waiting_room(supporter) if waiting else supporter


@dataclass
class Pair:
    run: CollectionRun
    seeker: Worker
    supporter: Worker
    conversation: Conversation


def make_pair(**run_settings: Any) -> Pair:
    run = make_run(**run_settings)
    seeker = make_waiting_seeker(run)
    supporter = make_supporter(run)
    assert matching.match_waiting_workers(run) == 1
    conversation = Conversation.objects.get(seeker=seeker)
    seeker.refresh_from_db()
    supporter.refresh_from_db()
    return Pair(run, seeker, supporter, conversation)


def session_cookie(worker: Worker | None = None, **values: Any) -> str:
    store = SessionStore()
    if worker is not None:
        store[SESSION_KEY] = worker.pk
    for key, value in values.items():
        store[key] = value
    store.create()
    return f"sessionid={store.session_key}"


def login(client: Any, worker: Worker) -> None:
    session = client.session
    session[SESSION_KEY] = worker.pk
    session.save()


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


# Like sync_to_async, and closes the thread's DB connection afterwards (PostgreSQL drops the
# test database only when no connection is left).
adb = database_sync_to_async


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
