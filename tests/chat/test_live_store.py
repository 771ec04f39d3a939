"""The message path on PostgreSQL's event loop (chat.live_store): same results, real faults.

On SQLite (the embedded default) messages keep the thread path, which the rest of tests/chat
covers; these tests check which path is taken there and what only the PostgreSQL path does.
"""

from __future__ import annotations

import pytest
from django.db import connection

# Loaded when the module is: the application's first import sets up Django's logging again,
# which replaces the root handlers a test's caplog reads from.
import esc_platform.asgi  # noqa: F401
from chat import live_store
from chat.models import Conversation, Utterance
from quality.models import Flag
from tests.chat.conftest import Statements
from tests.chat.factories import make_pair
from tests.chat.sockets import adb, join, receive_until, terminate_chat_connections
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


async def test_messages_take_the_event_loop_path_only_on_postgresql() -> None:
    assert live_store.enabled() is _on_postgresql()


async def test_a_message_after_the_database_dropped_its_connections_is_still_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not _on_postgresql():
        pytest.skip("the event-loop path exists on PostgreSQL only (the PostgreSQL pass runs it)")
    pair = await adb(make_pair)()
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    await seeker.send_json_to({"type": "message", "id": "m-1", "text": "first"})
    ack, _ = await receive_until(seeker, "ack")
    assert ack["seq"] == 1
    # The pool now holds an idle connection; the server kills it.
    assert await adb(terminate_chat_connections)() == 1
    caplog.clear()
    await seeker.send_json_to({"type": "message", "id": "m-2", "text": "second"})
    ack, before = await receive_until(seeker, "ack")
    # The dead connection was found at the first round trip and the message sent on a new one.
    assert "a pooled database connection had gone" in caplog.text
    assert ack == {"type": "ack", "id": "m-2", "seq": 2}
    assert not [f for f in before if f["type"] == "error"], before
    stored = await adb(list)(
        Utterance.objects.filter(conversation=pair.conversation)
        .order_by("position")
        .values_list("position", "text")
    )
    assert stored == [(1, "first"), (2, "second")]
    await seeker.disconnect()


async def test_a_refused_message_leaves_no_transaction_open_and_the_next_one_is_stored() -> None:
    pair = await adb(make_pair)()
    supporter, _ = await join(await adb(session_cookie)(pair.supporter), pair.conversation.pk)
    # Refused under the row lock (the rules need the locked row): rolled back, nothing written.
    await supporter.send_json_to({"type": "message", "id": "m-1", "text": "no strategy"})
    error, _ = await receive_until(supporter, "error")
    assert error["code"] == "strategy_required"
    await supporter.send_json_to(
        {"type": "message", "id": "m-1", "text": "Hello there", "strategy": "Question"}
    )
    ack, _ = await receive_until(supporter, "ack")
    assert ack["seq"] == 1
    conversation = await adb(Conversation.objects.get)(pk=pair.conversation.pk)
    assert (conversation.last_seq, conversation.supporter_message_count) == (1, 1)
    copies = Flag.objects.filter(conversation=conversation, kind="copied_example")
    assert await adb(copies.count)() == 0
    await supporter.disconnect()


async def test_the_seekers_answer_to_a_prompt_is_one_statement_on_the_event_loop(
    statements: Statements,
) -> None:
    if not _on_postgresql():
        pytest.skip("the event-loop path exists on PostgreSQL only (the PostgreSQL pass runs it)")
    pair = await adb(make_pair)(feedback_every=1)
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    supporter, _ = await join(await adb(session_cookie)(pair.supporter), pair.conversation.pk)
    await supporter.send_json_to(
        {"type": "message", "id": "p-1", "text": "How are you?", "strategy": "Question"}
    )
    request, _ = await receive_until(seeker, "feedback_request")
    statements.event_loop.clear()
    statements.orm.clear()

    await seeker.send_json_to({"type": "feedback", "prompt": request["prompt"], "score": 5})
    ack, _ = await receive_until(seeker, "feedback_ack")

    assert ack == {"type": "feedback_ack", "prompt": request["prompt"], "score": 5}
    assert len(statements.event_loop) == 1 and statements.orm == []
    stored = await adb(
        lambda: Conversation.objects.values_list(
            "pending_feedback_prompt", "pending_feedback_score"
        ).get(pk=pair.conversation.pk)
    )()
    assert stored == (None, 5)
    # A prompt that is not open changes nothing on the event loop; the thread path says why.
    await seeker.send_json_to({"type": "feedback", "prompt": request["prompt"], "score": 1})
    error, _ = await receive_until(seeker, "error")
    assert error["code"] == "no_open_prompt"
