"""A worker's socket joins a live chat in one database round trip on PostgreSQL (issue 13).

chat.live_store.open_session reads the session, the conversation, its workers and the replay
with one string of statements; these tests count the statements that reach the database
(psycopg's cursor and Django's, wherever they run) and check that what the socket is told is
exactly what the thread path tells it. Refusals keep the thread path (tests/chat elsewhere).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

# Loaded when the module is: the application's first import sets up Django's logging again,
# which replaces the root handlers a test's caplog reads from.
import esc_platform.asgi  # noqa: F401
from chat import sessions
from chat.models import Utterance
from crowd.models import Worker
from tests.cast import CAROL, DAVE
from tests.chat.conftest import Statements
from tests.chat.factories import make_pair
from tests.chat.sockets import (
    adb,
    connect,
    join,
    receive,
    receive_until,
    terminate_chat_connections,
)
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the one-round-trip connect exists on PostgreSQL only (its pass runs it)")


def _talk(pair: Any) -> None:
    """Two stored messages, the second the supporter's with a strategy."""
    Utterance.objects.create(
        conversation=pair.conversation, position=1, speaker="seeker", text="hello", sent_at=None
    )
    Utterance.objects.create(
        conversation=pair.conversation,
        position=2,
        speaker="supporter",
        text="hi there",
        strategy="Question",
        client_message_id="c-2",
        sent_at=timezone.now(),
    )
    pair.conversation.last_seq = 2
    pair.conversation.save(update_fields=["last_seq"])


def _thread_path(conversation_id: int, worker_id: int, after: int) -> sessions.ChatSession:
    return sessions.open_session(conversation_id, worker_id=worker_id, after=after)


async def test_a_worker_connects_in_one_round_trip_and_is_told_what_the_thread_path_tells(
    statements: Statements,
) -> None:
    _require_postgresql()
    pair = await adb(make_pair)()
    await adb(_talk)(pair)
    cookie = await adb(session_cookie)(pair.supporter)
    statements.event_loop.clear()
    statements.orm.clear()

    socket, hello = await join(cookie, pair.conversation.pk, after=1)
    replayed = await receive(socket)

    assert len(statements.event_loop) == 1, statements.event_loop
    # Nothing through the ORM: no session load, no worker or conversation query, in no thread.
    assert statements.orm == []
    expected = await adb(_thread_path)(pair.conversation.pk, pair.supporter.pk, 1)
    # elapsed_s is computed at each greeting: equal to the second, unless a second boundary
    # passed between the two.
    assert abs(hello.pop("elapsed_s") - expected.hello.pop("elapsed_s")) <= 1
    assert hello == expected.hello
    assert [replayed] == expected.replay
    assert replayed["strategy"] == "Question" and replayed["seq"] == 2
    await socket.disconnect()


async def test_a_seeker_is_replayed_everything_without_strategies_in_the_same_round_trip(
    statements: Statements,
) -> None:
    _require_postgresql()
    pair = await adb(make_pair)()
    await adb(_talk)(pair)
    cookie = await adb(session_cookie)(pair.seeker)
    statements.event_loop.clear()

    socket, hello = await join(cookie, pair.conversation.pk)
    first, second = await receive(socket), await receive(socket)

    assert len(statements.event_loop) == 1
    assert hello["role"] == "seeker" and hello["last_seq"] == 2
    assert (first["seq"], first["id"], first["text"]) == (1, "seq-1", "hello")
    assert (second["seq"], second["text"]) == (2, "hi there") and "strategy" not in second
    await socket.disconnect()


def _disqualify(worker: Worker) -> None:
    Worker.objects.filter(pk=worker.pk).update(qualification=Worker.Qualification.FAILED)


async def test_a_supporter_disqualified_since_matching_is_still_refused() -> None:
    _require_postgresql()
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.supporter)
    await adb(_disqualify)(pair.supporter)

    socket = await connect(f"/ws/chat/{pair.conversation.pk}/", cookie)
    closed = await socket.receive_output(timeout=3)

    assert closed == {"type": "websocket.close", "code": 4403}


async def test_a_socket_refused_after_joining_the_group_is_sent_none_of_its_messages() -> None:
    _require_postgresql()
    pair = await adb(make_pair)()
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    other = await adb(make_pair)(seeker=CAROL, supporter=DAVE)
    outsider = await connect(
        f"/ws/chat/{pair.conversation.pk}/", await adb(session_cookie)(other.seeker)
    )

    await seeker.send_json_to({"type": "message", "id": "m-1", "text": "private"})
    await receive_until(seeker, "ack")

    assert await outsider.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    assert await outsider.receive_nothing(timeout=0.5)
    await seeker.disconnect()


async def test_a_socket_connects_after_the_database_dropped_the_pooled_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _require_postgresql()
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    first, _ = await join(cookie, pair.conversation.pk)
    await first.disconnect()
    assert await adb(terminate_chat_connections)() == 1
    caplog.clear()

    second, hello = await join(cookie, pair.conversation.pk)

    assert hello["role"] == "seeker"
    assert "a pooled database connection had gone" in caplog.text
    await second.disconnect()
