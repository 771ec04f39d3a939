"""Frames an attacker sends to crash the chat socket: each is refused, the socket stays up.

Every case here once closed the socket abnormally (1006) with a traceback and nothing stored,
or answered the handshake with HTTP 500. Now each gets an error frame (or a 44xx close for a
path nobody serves), nothing is written, and the next good frame is stored as usual.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import messages
from chat.errors import ChatError
from chat.models import Conversation, Utterance
from tests.chat.factories import make_pair, say
from tests.chat.sockets import ORIGIN, adb, connect, join, receive, receive_until
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _stored(conversation_id: int) -> tuple[int, list[tuple[Any, ...]]]:
    conversation = Conversation.objects.get(pk=conversation_id)
    rows = Utterance.objects.filter(conversation_id=conversation_id).order_by("position")
    return conversation.last_seq, list(rows.values_list("position", "text", "client_message_id"))


async def _still_works(communicator: WebsocketCommunicator, client_id: str) -> None:
    """The socket took the bad frame without dying: a good message is stored and acked."""
    await communicator.send_json_to({"type": "message", "id": client_id, "text": "still here"})
    ack, _ = await receive_until(communicator, "ack")
    assert ack["id"] == client_id


# (what the seeker sends, the error code she gets back)
CRASHING_FRAMES: list[tuple[str, str]] = [
    (json.dumps({"type": "end", "reason": []}), "unknown_reason"),
    (json.dumps({"type": "end", "reason": {"a": 1}}), "unknown_reason"),
    (json.dumps({"type": "message", "id": "n-1", "text": "hi\u0000there"}), "bad_text"),
    (json.dumps({"type": "message", "id": "s-1", "text": "hi \ud800"}), "bad_text"),
    (json.dumps({"type": "message", "id": "a\u0000b", "text": "hello"}), "bad_id"),
    (json.dumps({"type": "message", "id": "\udfff", "text": "hello"}), "bad_id"),
    (json.dumps({"type": "message", "id": "z-1", "text": "\u200b\u200b\u200b"}), "empty_text"),
    (json.dumps({"type": "message", "id": "z-2", "text": "\ufeff \u2060\n"}), "empty_text"),
    (json.dumps({"type": "message", "id": "c-1", "text": "bell\u0007"}), "bad_text"),
    ("[" * 100_000, "bad_json"),
    ('{"a":' * 50_000, "bad_json"),
    ('{"type": "message", "id": "d-1", "text": "x", "n": ' + "9" * 5000 + "}", "bad_json"),
]


@pytest.mark.parametrize(("raw", "code"), CRASHING_FRAMES, ids=range(len(CRASHING_FRAMES)))
async def test_a_crashing_frame_is_refused_and_the_socket_stays_up(raw: str, code: str) -> None:
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    communicator, _ = await join(cookie, pair.conversation.pk)
    await communicator.send_to(text_data=raw)
    error = await receive(communicator)
    assert (error["type"], error["code"]) == ("error", code), error
    assert await adb(_stored)(pair.conversation.pk) == (0, [])
    await _still_works(communicator, "after-1")
    await communicator.disconnect()


async def _connect_with_query(path: str, query: bytes, cookie: str) -> WebsocketCommunicator:
    """A socket whose query string is these very bytes, as a client may put on the wire."""
    from esc_platform.asgi import application

    communicator = WebsocketCommunicator(
        application, path, headers=[ORIGIN, (b"cookie", cookie.encode())]
    )
    communicator.scope["query_string"] = query
    connected, _ = await communicator.connect()
    assert connected
    return communicator


# "\xb2" read as Latin-1 is "²", a digit to str.isdigit that int() refuses.
@pytest.mark.parametrize(
    "after", [b"9" * 5000, b"99999999999999999999", b"\xb2", b"\xb9", b"-1", b"1e9"]
)
async def test_a_bad_after_replays_everything_and_keeps_the_socket(after: bytes) -> None:
    pair = await adb(make_pair)()
    await adb(say)(pair, pair.seeker, "before the reconnect")
    cookie = await adb(session_cookie)(pair.seeker)
    path = f"/ws/chat/{pair.conversation.pk}/"
    communicator = await _connect_with_query(path, b"after=" + after, cookie)
    hello = await receive(communicator)
    assert (hello["type"], hello["last_seq"]) == ("hello", 1)
    replayed = await receive(communicator)
    assert (replayed["type"], replayed["seq"]) == ("message", 1)
    await _still_works(communicator, "after-1")
    await communicator.disconnect()


@pytest.mark.parametrize("conversation", ["99999999999999999999", "9" * 5000, "0"])
async def test_a_conversation_id_no_row_can_have_is_closed_4404(conversation: str) -> None:
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    assert await _close_of(f"/ws/chat/{conversation}/", cookie) == 4404


async def _close_of(path: str, cookie: str | None = None) -> int:
    communicator = await connect(path, cookie)
    output = await communicator.receive_output(timeout=3)
    assert output["type"] == "websocket.close", output
    return int(output["code"])


@pytest.mark.parametrize(
    "path",
    ["/ws/nowhere/", "/ws/chat/abc/", "/ws/chat/1/x/", "/", "/ws/chat/%00/", "/ws/chat/1/watch/z"],
)
async def test_a_path_nobody_serves_is_closed_4404(path: str) -> None:
    assert await _close_of(path) == 4404


async def test_an_unroutable_path_answers_4404_to_a_worker_too() -> None:
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    assert await _close_of(f"/ws/chat/{pair.conversation.pk}/nope/", cookie) == 4404


def _queries_of_a_bad_frame(pair_conversation: int, worker: int, **frame: Any) -> int:
    with CaptureQueriesContext(connection) as queries, pytest.raises(ChatError):
        messages.post_message(pair_conversation, worker, **frame)
    return len(queries)


BAD_SHAPES: list[dict[str, Any]] = [
    {"client_id": None, "text": "hi"},
    {"client_id": "x" * 65, "text": "hi"},
    {"client_id": "ok", "text": None},
    {"client_id": "ok", "text": ["hi"]},
    {"client_id": "ok", "text": "   "},
    {"client_id": "ok", "text": "\u200b\u200c\u200d"},
    {"client_id": "ok", "text": "a\u0000"},
    {"client_id": "ok", "text": "x" * 100_000},
    {"client_id": "ok", "text": "hi", "strategy": ["Question"]},
]


@pytest.mark.parametrize("frame", BAD_SHAPES, ids=range(len(BAD_SHAPES)))
async def test_a_bad_frame_is_refused_before_any_lock_or_write(frame: dict[str, Any]) -> None:
    pair = await adb(make_pair)()
    # Not one statement: no row lock taken, no transaction opened for it.
    assert await adb(_queries_of_a_bad_frame)(pair.conversation.pk, pair.seeker.pk, **frame) == 0
