"""Every stored message reaches every open socket once, in order, whatever the relay lost.

A relay is lost for real here: a message is stored through the message service exactly as the
consumer does it, and its committed relay event is simply never published — what happens when
a server process dies between its commit and its publish. Redis outages use a private
redis-server that the test stops and starts again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from uvicorn.protocols.utils import ClientDisconnected

from chat import messages
from chat.consumers import ChatConsumer
from chat.models import Utterance
from devtools import redis_server
from devtools.redis_server import PrivateRedis
from esc_platform.redis_hosts import channel_layer_host
from tests.chat.factories import Pair, make_pair
from tests.chat.sockets import (
    ORIGIN,
    adb,
    connect,
    drain,
    receive,
    receive_live_message,
    receive_until,
)
from tests.crowd.factories import session_cookie
from tests.services_probe import require

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _pair() -> tuple[Pair, str, str]:
    pair = await adb(make_pair)()
    return pair, await adb(session_cookie)(pair.seeker), await adb(session_cookie)(pair.supporter)


async def _open(cookie: str, pair: Pair, *, heartbeat: bool = False) -> WebsocketCommunicator:
    query = "?after=0&heartbeat=1" if heartbeat else "?after=0"
    socket = await connect(f"/ws/chat/{pair.conversation.pk}/{query}", cookie)
    hello = await receive(socket)
    assert hello["type"] == "hello", hello
    return socket


def _store_without_relay(pair: Pair, client_id: str, text: str) -> int:
    """The seeker's message committed, its relay lost (the process died before publishing)."""
    result = messages.post_message(
        pair.conversation.pk, pair.seeker.pk, client_id=client_id, text=text, defer_relay=True
    )
    assert result.relay, "the relay event exists once the write has committed"
    return int(result.ack["seq"])


def _messages_in(frames: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(f["seq"], f["text"]) for f in frames if f["type"] == "message"]


async def test_a_lost_relay_is_filled_in_before_the_next_message(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _pair()
    supporter = await _open(supporter_cookie, pair)
    seeker = await _open(seeker_cookie, pair)
    assert await adb(_store_without_relay)(pair, "lost-1", "the first, never relayed") == 1
    assert _messages_in(await drain(supporter)) == []

    await seeker.send_json_to({"type": "message", "id": "m-2", "text": "the second"})
    live, before = await receive_live_message(supporter)
    assert _messages_in([*before, live]) == [(1, "the first, never relayed"), (2, "the second")]
    # Nothing comes twice afterwards, not even the event of message 2 itself.
    assert _messages_in(await drain(supporter)) == []
    await seeker.disconnect()
    await supporter.disconnect()


async def test_a_quiet_conversation_catches_up_on_the_heartbeat(
    channel_layer: str, settings: Any
) -> None:
    settings.CHAT_SYNC_SECONDS = 1
    pair, _, supporter_cookie = await _pair()
    supporter = await _open(supporter_cookie, pair, heartbeat=True)
    await adb(_store_without_relay)(pair, "lost-1", "nobody relayed me")

    await supporter.send_json_to({"type": "ping"})
    pong, _ = await receive_until(supporter, "pong")
    assert pong == {"type": "pong"}
    frame, _ = await receive_until(supporter, "message")
    assert (frame["seq"], frame["text"]) == (1, "nobody relayed me")
    await asyncio.sleep(1.1)
    await supporter.send_json_to({"type": "ping"})
    assert _messages_in(await drain(supporter, timeout=0.5)) == []
    await supporter.disconnect()


async def test_a_resend_is_relayed_again_and_shown_once(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _pair()
    supporter = await _open(supporter_cookie, pair)
    seeker = await _open(seeker_cookie, pair)
    await adb(_store_without_relay)(pair, "x-1", "stored before the process died")

    for _ in range(2):  # the page resends whatever was not acknowledged, maybe twice
        await seeker.send_json_to({"type": "message", "id": "x-1", "text": "stored before"})
        ack, _ = await receive_until(seeker, "ack")
        assert ack == {"type": "ack", "id": "x-1", "seq": 1}
    shown = _messages_in(await drain(supporter, timeout=0.5))
    assert shown == [(1, "stored before the process died")]
    assert await adb(Utterance.objects.filter(client_message_id="x-1").count)() == 1
    await seeker.disconnect()
    await supporter.disconnect()


async def test_each_side_sees_the_other_come_and_go(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _pair()
    supporter = await _open(supporter_cookie, pair, heartbeat=True)
    seeker = await _open(seeker_cookie, pair, heartbeat=True)
    arrived, _ = await receive_until(supporter, "presence")
    assert arrived == {"type": "presence", "role": "seeker", "online": True}
    already_here, _ = await receive_until(seeker, "presence")
    assert already_here == {"type": "presence", "role": "supporter", "online": True}

    await seeker.disconnect()
    assert await _next_absence(supporter) == {"type": "presence", "role": "seeker", "online": False}
    await supporter.disconnect()


async def _next_absence(socket: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    """The next presence frame saying someone left (a newcomer may be announced twice first)."""
    while True:
        frame, _ = await receive_until(socket, "presence", timeout=timeout)
        if not frame["online"]:
            return frame


async def test_a_socket_without_heartbeat_is_never_dropped_for_silence(
    channel_layer: str, settings: Any
) -> None:
    settings.CHAT_HEARTBEAT_TIMEOUT_SECONDS = 2
    pair, seeker_cookie, _ = await _pair()
    seeker = await _open(seeker_cookie, pair)
    assert await seeker.receive_nothing(timeout=3)
    await seeker.send_json_to({"type": "message", "id": "m-1", "text": "still here"})
    ack, _ = await receive_until(seeker, "ack")
    assert ack["seq"] == 1
    await seeker.disconnect()


async def test_a_heartbeat_socket_that_falls_silent_is_dropped_and_its_partner_told(
    channel_layer: str, settings: Any
) -> None:
    """A page whose network is gone sends nothing: dropped with 4408, the partner sees it go."""
    settings.CHAT_HEARTBEAT_TIMEOUT_SECONDS = 2
    pair, seeker_cookie, supporter_cookie = await _pair()
    supporter = await _open(supporter_cookie, pair, heartbeat=True)
    seeker = await _open(seeker_cookie, pair, heartbeat=True)
    await drain(supporter)

    async def keep_pinging() -> None:  # the supporter's page is still there
        while True:
            await supporter.send_json_to({"type": "ping"})
            await asyncio.sleep(0.5)

    pinger = asyncio.ensure_future(keep_pinging())

    async def close_code() -> int:
        while True:  # pongs and presence may come first; the close is what matters
            output = await seeker.receive_output(timeout=6)
            if output["type"] == "websocket.close":
                return int(output["code"])

    assert await asyncio.wait_for(close_code(), timeout=8) == 4408
    gone = await asyncio.wait_for(_next_absence(supporter), timeout=8)
    assert gone == {"type": "presence", "role": "seeker", "online": False}
    pinger.cancel()
    await asyncio.wait_for(seeker.disconnect(), timeout=5)
    await asyncio.wait_for(supporter.disconnect(), timeout=5)


async def test_a_frame_for_a_client_already_gone_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """uvicorn raises ClientDisconnected (an OSError) when a frame goes to a closed socket: the
    client is gone, there is nobody to answer, and no service has failed."""
    consumer = ChatConsumer()

    async def gone(message: dict[str, Any]) -> None:
        raise ClientDisconnected()

    consumer.base_send = gone
    with caplog.at_level(logging.DEBUG):
        await consumer.send_json({"type": "pong"})
        await consumer.send_json({"type": "pong"})
    assert consumer.client_gone
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


def _rename_utterances(old: str, new: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")


async def test_a_failing_database_answers_retryable_and_keeps_the_socket(
    channel_layer: str,
) -> None:
    pair, seeker_cookie, _ = await _pair()
    seeker = await _open(seeker_cookie, pair)
    table = Utterance._meta.db_table
    # A real database failure: the insert of every message fails until the table is back.
    await adb(_rename_utterances)(table, f"{table}_away")
    try:
        await seeker.send_json_to({"type": "message", "id": "m-1", "text": "are you there?"})
        error, _ = await receive_until(seeker, "error")
    finally:
        await adb(_rename_utterances)(f"{table}_away", table)
    assert error["code"] == "unavailable" and error["retryable"] is True
    assert error["ref"] == "m-1"
    # The same socket, the same id: stored once.
    await seeker.send_json_to({"type": "message", "id": "m-1", "text": "are you there?"})
    ack, _ = await receive_until(seeker, "ack")
    assert ack == {"type": "ack", "id": "m-1", "seq": 1}
    await seeker.disconnect()


@pytest.fixture
def private_redis(settings: Any) -> Iterator[PrivateRedis]:
    """The chat's channel layer on a redis-server of the test's own, which it may stop."""
    require("redis-server", redis_server.available(), "install redis-server")
    redis = PrivateRedis.start()
    settings.REDIS_OPERATION_TIMEOUT = 1
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [channel_layer_host(redis.url, connect_timeout=1)]},
        }
    }
    try:
        yield redis
    finally:
        redis.stop()


async def _ping_until_message(socket: WebsocketCommunicator, seconds: float) -> dict[str, Any]:
    """Ping as the page does until a message frame comes (or fail after `seconds`)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await socket.send_json_to({"type": "ping"})
        for frame in await drain(socket, timeout=0.5):
            if frame["type"] == "message":
                return frame
    raise AssertionError(f"no message within {seconds} s")


async def test_a_message_sent_while_redis_is_down_is_shown_once_redis_is_back(
    private_redis: PrivateRedis, settings: Any
) -> None:
    settings.CHAT_SYNC_SECONDS = 1
    pair, seeker_cookie, supporter_cookie = await _pair()
    supporter = await _open(supporter_cookie, pair, heartbeat=True)
    seeker = await _open(seeker_cookie, pair, heartbeat=True)
    await receive_until(supporter, "presence")

    private_redis.stop()
    await seeker.send_json_to({"type": "message", "id": "m-1", "text": "while Redis was down"})
    ack, _ = await receive_until(seeker, "ack", timeout=10)
    assert ack == {"type": "ack", "id": "m-1", "seq": 1}, "stored, and the author is told so"
    private_redis.restart()

    frame = await _ping_until_message(supporter, seconds=20)
    assert (frame["seq"], frame["text"]) == (1, "while Redis was down")
    await asyncio.sleep(2)  # the background relay retry may arrive now: it must be dropped
    assert _messages_in(await drain(supporter, timeout=1)) == []
    await seeker.disconnect()
    await supporter.disconnect()


async def test_a_socket_opened_while_redis_is_down_is_closed_with_try_again(
    private_redis: PrivateRedis,
) -> None:
    pair, seeker_cookie, _ = await _pair()
    private_redis.stop()
    from esc_platform.asgi import application

    headers = [ORIGIN, (b"cookie", seeker_cookie.encode())]
    socket = WebsocketCommunicator(application, f"/ws/chat/{pair.conversation.pk}/", headers)
    connected, code = await socket.connect(timeout=15)
    if connected:
        closed = await socket.receive_output(timeout=15)
        code = closed.get("code")
    assert code == 4503
