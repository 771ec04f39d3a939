"""Fuzzed frames on both sockets of a chat: every one is answered, no socket dies, no bad row.

Each example opens the seeker's and the supporter's sockets, sends a few generated frames
from either side, then asks each socket a question it must answer (a feedback frame without
a prompt, which is refused with `bad_feedback` and the frame's id). A socket that closed, or a
consumer that raised, fails the example. Every stored utterance must be one the live chat
accepts. Frames that would legitimately end the chat are left out: every later example needs
it open.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from chat.endings import REQUESTABLE
from chat.models import Utterance
from crowd import vocabulary
from tests.chat.factories import Pair, make_pair
from tests.chat.sockets import adb, join
from tests.crowd.factories import session_cookie
from tests.fuzz.strategies import (
    FUZZ,
    crafted,
    json_values,
    numbers,
    plain_text,
    row_breaks_chat_rules,
    text,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

_probes = itertools.count(1)

frame_fields = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(
            st.sampled_from(["message", "feedback", "typing", "end", "ping", "hello"]), json_values
        ),
        "id": st.one_of(text, numbers, st.none(), st.lists(text, max_size=2)),
        "text": st.one_of(text, json_values),
        "strategy": st.one_of(st.sampled_from(vocabulary.STRATEGY_NAMES), json_values),
        "prompt": st.one_of(numbers, json_values),
        "score": st.one_of(st.integers(min_value=-2, max_value=7), json_values),
        "reason": json_values,
    },
)


def _ends_the_chat(frame: dict[str, Any]) -> bool:
    reason = frame.get("reason")
    return frame.get("type") == "end" and isinstance(reason, str) and reason in REQUESTABLE


# Messages as each side sends them, with fuzzed text: many are stored, and the rows checked.
# Mostly fresh ids; a short one now and then is a resend, or the partner's id.
message_ids = st.one_of(st.uuids().map(str), st.text(alphabet="ab-1", min_size=1, max_size=3))
seeker_messages = st.fixed_dictionaries(
    {"type": st.just("message"), "id": message_ids, "text": st.one_of(plain_text, text)}
)
supporter_messages = st.fixed_dictionaries(
    {
        "type": st.just("message"),
        "id": message_ids,
        "text": st.one_of(plain_text, text),
        "strategy": st.sampled_from(vocabulary.STRATEGY_NAMES),
    }
)

raw_frames = st.one_of(
    frame_fields.filter(lambda f: not _ends_the_chat(f)).map(json.dumps),
    crafted,
    st.text(max_size=50),
    json_values.map(json.dumps),
    st.binary(max_size=20),  # a binary frame: the protocol has none
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("seeker"), seeker_messages.map(json.dumps)),
        st.tuples(st.just("supporter"), supporter_messages.map(json.dumps)),
        st.tuples(st.sampled_from(["seeker", "supporter"]), raw_frames),
    ),
    max_size=6,
)


def _frame(raw: str | bytes) -> dict[str, Any]:
    """The ASGI event of one received frame (empty text included, which send_to refuses)."""
    key = "bytes" if isinstance(raw, bytes) else "text"
    return {"type": "websocket.receive", key: raw}


@dataclass
class Chat:
    pair: Pair
    cookies: dict[str, str]


@pytest.fixture
def chat(settings: Any) -> Iterator[Chat]:
    # Frame content is fuzzed here, not the rate: every frame must reach the handlers.
    settings.CHAT_MAX_FRAMES_BURST = 100_000
    settings.CHAT_TYPING_RELAY_SECONDS = 0
    cache.clear()
    pair = make_pair()
    cookies = {"seeker": session_cookie(pair.seeker), "supporter": session_cookie(pair.supporter)}
    yield Chat(pair, cookies)
    cache.clear()


async def _answers_a_probe(socket: WebsocketCommunicator) -> None:
    """The socket is alive: it answers a frame it must refuse, whatever came before."""
    probe = f"probe-{next(_probes)}"
    await socket.send_to(text_data=json.dumps({"type": "feedback", "id": probe}))
    while True:
        output = await socket.receive_output(timeout=5)
        assert output["type"] == "websocket.send", f"the socket closed: {output}"
        frame = json.loads(output["text"])
        if frame.get("type") == "error" and frame.get("ref") == probe:
            assert frame["code"] == "bad_feedback"
            return


def _bad_rows(chat: Chat) -> list[str]:
    max_chars = chat.pair.run.max_message_chars
    rows = Utterance.objects.filter(conversation=chat.pair.conversation)
    return [f"{u.position}: {why}" for u in rows if (why := row_breaks_chat_rules(u, max_chars))]


@FUZZ
@given(steps=steps)
async def test_no_frame_ends_a_socket_or_stores_what_the_chat_refuses(
    chat: Chat, steps: list[tuple[str, str | bytes]]
) -> None:
    sockets = {
        role: (await join(cookie, chat.pair.conversation.pk))[0]
        for role, cookie in chat.cookies.items()
    }
    try:
        for role, raw in steps:
            await sockets[role].send_input(_frame(raw))
        for socket in sockets.values():  # the sender and its partner alike
            await _answers_a_probe(socket)
    finally:
        for socket in sockets.values():
            await socket.disconnect()
    assert await adb(_bad_rows)(chat) == []
