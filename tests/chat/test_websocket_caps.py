"""Caps on one socket and one worker: frame rate, open sockets, messages, typing relays.

Each cap sheds the excess without closing the socket that hit it (except the extra socket
itself) and without disturbing the partner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from chat.models import Utterance
from tests.cast import CAROL, DAVE
from tests.chat.factories import make_pair
from tests.chat.sockets import adb, connect, drain, join, receive, receive_until
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Socket slots live in the (in-process) cache; a test's slots must not outlive it.
    cache.clear()
    yield
    cache.clear()


async def _pair_sockets() -> tuple[Any, Any, Any]:
    pair = await adb(make_pair)()
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    supporter, _ = await join(await adb(session_cookie)(pair.supporter), pair.conversation.pk)
    return pair, seeker, supporter


def _message(client_id: str, text: str = "hello") -> dict[str, Any]:
    return {"type": "message", "id": client_id, "text": text}


async def test_frames_past_the_burst_are_dropped_retryable_and_the_socket_stays(
    settings: Any,
) -> None:
    settings.CHAT_MAX_FRAMES_BURST = 3
    settings.CHAT_MAX_FRAMES_PER_SECOND = 2
    _, seeker, supporter = await _pair_sockets()
    for number in range(1, 5):
        await seeker.send_json_to(_message(f"r-{number}"))
    acks, refused = [], []
    while len(acks) + len(refused) < 4:
        frame = await receive(seeker)
        if frame["type"] == "ack":
            acks.append(frame["id"])
        elif frame["type"] == "error":
            refused.append(frame)
    assert acks == ["r-1", "r-2", "r-3"]
    assert [(f["code"], f["ref"], f["retryable"]) for f in refused] == [
        ("rate_limited", "r-4", True)
    ]
    await asyncio.sleep(0.6)  # a token back
    await seeker.send_json_to(_message("r-4"))
    ack, _ = await receive_until(seeker, "ack")
    assert ack == {"type": "ack", "id": "r-4", "seq": 4}
    seen = [f["id"] for f in await drain(supporter) if f["type"] == "message"]
    assert seen == ["r-1", "r-2", "r-3", "r-4"]
    await seeker.disconnect()
    await supporter.disconnect()


async def _close_code(path: str, cookie: str) -> int | None:
    """The close code if the socket is closed at once; None when it was let in (hello)."""
    communicator = await connect(path, cookie)
    output = await communicator.receive_output(timeout=3)
    if output["type"] == "websocket.close":
        return int(output["code"])
    await communicator.disconnect()
    return None


async def test_one_socket_past_the_cap_is_closed_4429_until_another_closes(
    settings: Any,
) -> None:
    settings.CHAT_MAX_SOCKETS_PER_WORKER = 2
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    path = f"/ws/chat/{pair.conversation.pk}/"
    first, _ = await join(cookie, pair.conversation.pk)
    second, _ = await join(cookie, pair.conversation.pk)
    assert await _close_code(path, cookie) == 4429
    # Refused sockets hold no slot: the partner, and the seeker's own two, are untouched.
    supporter_cookie = await adb(session_cookie)(pair.supporter)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    await first.send_json_to(_message("still-1"))
    assert (await receive_until(first, "ack"))[0]["id"] == "still-1"
    await first.disconnect()
    third, _ = await join(cookie, pair.conversation.pk)
    assert await _close_code(path, cookie) == 4429
    for socket in (second, third, supporter):
        await socket.disconnect()


async def test_a_refused_connection_takes_no_slot(settings: Any) -> None:
    settings.CHAT_MAX_SOCKETS_PER_WORKER = 1
    pair = await adb(make_pair)()
    other = await adb(lambda: make_pair(pair.run, seeker=CAROL, supporter=DAVE))()
    cookie = await adb(session_cookie)(pair.seeker)
    # Not her conversation: refused 4403, and her one slot stays free.
    assert await _close_code(f"/ws/chat/{other.conversation.pk}/", cookie) == 4403
    assert await _close_code(f"/ws/chat/{pair.conversation.pk}/", cookie) is None


async def test_a_full_conversation_refuses_new_messages_but_acks_resends(settings: Any) -> None:
    settings.CHAT_MAX_MESSAGES_PER_CONVERSATION = 3
    pair, seeker, supporter = await _pair_sockets()
    for number in range(1, 4):
        await seeker.send_json_to(_message(f"m-{number}"))
        await receive_until(seeker, "ack")
    await seeker.send_json_to(_message("m-4"))
    error, _ = await receive_until(seeker, "error")
    assert (error["code"], error["ref"]) == ("too_many_messages", "m-4")
    await seeker.send_json_to(_message("m-3"))  # a resend of a stored one is still acked
    ack, _ = await receive_until(seeker, "ack")
    assert ack == {"type": "ack", "id": "m-3", "seq": 3}
    count = await adb(Utterance.objects.filter(conversation=pair.conversation).count)()
    assert count == 3
    for socket in (seeker, supporter):
        await socket.disconnect()


async def test_typing_reaches_the_partner_at_most_once_per_interval(settings: Any) -> None:
    settings.CHAT_TYPING_RELAY_SECONDS = 1
    settings.CHAT_MAX_FRAMES_BURST = 50
    _, seeker, supporter = await _pair_sockets()
    for _ in range(10):
        await supporter.send_json_to({"type": "typing"})
    typing = [f for f in await drain(seeker, timeout=0.5) if f["type"] == "typing"]
    assert typing == [{"type": "typing", "speaker": "supporter"}]
    await asyncio.sleep(1.0)
    await supporter.send_json_to({"type": "typing"})
    typing = [f for f in await drain(seeker, timeout=0.5) if f["type"] == "typing"]
    assert len(typing) == 1
    for socket in (seeker, supporter):
        await socket.disconnect()
