"""Messages over the websocket: stored before relay, acked, echoed, replayed, never twice."""

from __future__ import annotations

import asyncio

import pytest

from chat.models import Conversation, Utterance
from tests.cast import OTTO, RITA, account
from tests.chat.factories import make_pair
from tests.chat.sockets import (
    adb,
    connect,
    drain,
    join,
    login_cookie,
    receive,
    receive_live_message,
    receive_until,
)
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _setup(**run_settings):
    pair = await adb(make_pair)(**run_settings)
    seeker_cookie = await adb(session_cookie)(pair.seeker)
    supporter_cookie = await adb(session_cookie)(pair.supporter)
    return pair, seeker_cookie, supporter_cookie


async def test_it_says_hello_with_the_state(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, hello = await join(seeker_cookie, pair.conversation.pk)
    assert hello == {
        "type": "hello",
        "conversation": pair.conversation.pk,
        "role": "seeker",
        "last_seq": 0,
        "state": "active",
        "turns": 0,
        "elapsed_s": hello["elapsed_s"],
        "can_end": False,
        "can_report_unresponsive": False,
        "pending_feedback_prompt": None,
    }
    supporter, hello2 = await join(supporter_cookie, pair.conversation.pk)
    assert hello2["role"] == "supporter"
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_relays_a_message_to_both_sides_and_hides_the_strategy_from_the_seeker(
    channel_layer: str,
) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)

    await supporter.send_json_to(
        {"type": "message", "id": "m-1", "text": "Hi, how are you?", "strategy": "Question"}
    )
    # The echo first (with the status after it), then the ack: two frames, in that order.
    echo, ack = [await receive(supporter) for _ in range(2)]
    assert ack == {"type": "ack", "id": "m-1", "seq": 1}
    assert echo["type"] == "message"
    assert echo["seq"] == 1 and echo["speaker"] == "supporter"
    assert echo["strategy"] == "Question"
    assert echo["text"] == "Hi, how are you?"
    assert "+00:00" in echo["sent_at"] or echo["sent_at"].endswith("Z")
    assert echo["status"] == {
        "turns": 0,
        "elapsed_s": echo["status"]["elapsed_s"],
        "can_end": False,
        "can_report_unresponsive": False,
    }

    seen, _ = await receive_until(seeker, "message")
    assert seen["id"] == "m-1" and seen["seq"] == 1
    assert "strategy" not in seen
    assert seen["status"]["turns"] == 0

    await seeker.send_json_to({"type": "message", "id": "s-1", "text": "Not great.\n"})
    ack, _ = await receive_until(seeker, "ack")
    assert ack["seq"] == 2
    seen, _ = await receive_live_message(supporter)
    assert seen["status"]["turns"] == 1

    rows = await adb(list)(
        Utterance.objects.filter(conversation=pair.conversation).values_list(
            "position", "speaker", "text", "strategy"
        )
    )
    assert rows == [
        (1, "supporter", "Hi, how are you?", "Question"),
        (2, "seeker", "Not great.\n", None),
    ]
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_stores_a_resend_once_and_acks_the_original_seq(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    frame = {"type": "message", "id": "dup-1", "text": "Hello there"}
    await seeker.send_json_to(frame)
    first, _ = await receive_until(seeker, "ack")
    await drain(seeker)
    await drain(supporter)
    await seeker.send_json_to(frame)
    second = await receive(seeker)
    assert second == {"type": "ack", "id": "dup-1", "seq": first["seq"]}
    # Not relayed a second time.
    assert await drain(seeker) == []
    assert await drain(supporter) == []
    assert await adb(Utterance.objects.filter(conversation=pair.conversation).count)() == 1
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_replays_everything_after_the_given_seq_on_reconnect(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    for n in range(1, 6):
        await supporter.send_json_to(
            {"type": "message", "id": f"m-{n}", "text": f"message {n}", "strategy": "Others"}
        )
        await receive_until(supporter, "ack")
    await supporter.disconnect()

    # The seeker saw messages 1 and 2 before the network dropped.
    seeker, hello = await join(seeker_cookie, pair.conversation.pk, after=2)
    assert hello["last_seq"] == 5
    replay = [await receive(seeker) for _ in range(3)]
    assert [f["seq"] for f in replay] == [3, 4, 5]
    assert all(f["type"] == "message" and "strategy" not in f for f in replay)
    # Five supporter messages, feedback every two: prompt 2 is open and is sent after the replay.
    prompt = await receive(seeker)
    assert prompt == {
        "type": "feedback_request",
        "prompt": 2,
        "question": "Do those messages help you feel better?",
    }
    assert hello["pending_feedback_prompt"] == 2
    await seeker.disconnect()

    supporter, hello = await join(supporter_cookie, pair.conversation.pk)
    replay = [await receive(supporter) for _ in range(5)]
    assert [f["seq"] for f in replay] == [1, 2, 3, 4, 5]
    assert all(f["strategy"] == "Others" for f in replay)
    assert hello["pending_feedback_prompt"] is None
    await supporter.disconnect()


async def test_it_stores_feedback_on_the_seekers_next_utterance(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    await seeker.send_json_to({"type": "message", "id": "s-1", "text": "I feel low."})
    await receive_until(seeker, "ack")
    for n in (1, 2):
        await supporter.send_json_to(
            {
                "type": "message",
                "id": f"p-{n}",
                "text": f"I hear you ({n}).",
                "strategy": "Reflection of feelings",
            }
        )
    request, _ = await receive_until(seeker, "feedback_request")
    assert request["prompt"] == 1
    await seeker.send_json_to({"type": "feedback", "prompt": 1, "score": 4})
    ack, _ = await receive_until(seeker, "feedback_ack")
    assert ack == {"type": "feedback_ack", "prompt": 1, "score": 4}
    # Answering the same prompt again is refused: it is no longer open.
    await seeker.send_json_to({"type": "feedback", "prompt": 1, "score": 2})
    error, _ = await receive_until(seeker, "error")
    assert error["code"] == "no_open_prompt"

    await seeker.send_json_to({"type": "message", "id": "s-2", "text": "Thanks, a bit better."})
    await receive_until(seeker, "ack")
    await seeker.send_json_to({"type": "message", "id": "s-3", "text": "Really."})
    await receive_until(seeker, "ack")
    rows = await adb(list)(
        Utterance.objects.filter(conversation=pair.conversation)
        .order_by("position")
        .values_list("client_message_id", "feedback")
    )
    assert rows == [("s-1", None), ("p-1", None), ("p-2", None), ("s-2", 4), ("s-3", None)]
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_sends_typing_to_the_partner_only(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    await seeker.send_json_to({"type": "typing"})
    assert await receive(supporter) == {"type": "typing", "speaker": "seeker"}
    assert await drain(seeker) == []
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_keeps_an_idle_socket_alive_on_redis(redis_channel_layer: str) -> None:
    """redis-py 8's default 5 s read timeout dropped idle sockets (docs/development.md)."""
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    await asyncio.sleep(6.5)
    await supporter.send_json_to(
        {"type": "message", "id": "late", "text": "Still there?", "strategy": "Question"}
    )
    frame, _ = await receive_until(seeker, "message", timeout=5)
    assert frame["id"] == "late"
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_lets_staff_watch_read_only_with_strategies(channel_layer: str) -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()

    rita = await adb(lambda: login_cookie(account(RITA)))()
    watcher = await connect(f"/ws/chat/{pair.conversation.pk}/watch/", rita)
    hello = await receive(watcher)
    assert hello["role"] == "staff"
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    await supporter.send_json_to(
        {"type": "message", "id": "m-1", "text": "Hello!", "strategy": "Others"}
    )
    frame, _ = await receive_until(watcher, "message")
    assert frame["strategy"] == "Others"
    await watcher.send_json_to({"type": "message", "id": "x", "text": "I am staff"})
    error, _ = await receive_until(watcher, "error")
    assert error["code"] == "read_only"
    assert await adb(Utterance.objects.filter(conversation=pair.conversation).count)() == 1
    await watcher.disconnect()

    # Otto is logged in, but not staff.
    otto = await adb(lambda: login_cookie(account(OTTO)))()
    refused = await connect(f"/ws/chat/{pair.conversation.pk}/watch/", otto)
    assert (await refused.receive_output(timeout=3))["code"] == 4403
    anonymous = await connect(f"/ws/chat/{pair.conversation.pk}/watch/")
    assert (await anonymous.receive_output(timeout=3))["code"] == 4401
    # A worker session is not a staff login either.
    worker_watch = await connect(f"/ws/chat/{pair.conversation.pk}/watch/", seeker_cookie)
    assert (await worker_watch.receive_output(timeout=3))["code"] == 4401
    await supporter.disconnect()
    assert await adb(Conversation.objects.filter(state="active").count)() == 1


async def test_it_replaces_an_unanswered_prompt_with_the_next_one() -> None:
    pair, seeker_cookie, supporter_cookie = await _setup(feedback_every=1)
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    for n in (1, 2):
        await supporter.send_json_to(
            {"type": "message", "id": f"p-{n}", "text": f"line {n}", "strategy": "Others"}
        )
        request, _ = await receive_until(seeker, "feedback_request")
        assert request["prompt"] == n
    await seeker.send_json_to({"type": "feedback", "prompt": 1, "score": 3})
    error, _ = await receive_until(seeker, "error")
    assert error["code"] == "no_open_prompt"
    await seeker.send_json_to({"type": "feedback", "prompt": 2, "score": 5})
    ack, _ = await receive_until(seeker, "feedback_ack")
    assert ack["prompt"] == 2
    conversation = await adb(Conversation.objects.get)(pk=pair.conversation.pk)
    assert (conversation.pending_feedback_prompt, conversation.pending_feedback_score) == (None, 5)
    await seeker.disconnect()
    await supporter.disconnect()


async def test_it_refuses_an_id_the_partner_already_used() -> None:
    pair, seeker_cookie, supporter_cookie = await _setup()
    seeker, _ = await join(seeker_cookie, pair.conversation.pk)
    supporter, _ = await join(supporter_cookie, pair.conversation.pk)
    await seeker.send_json_to({"type": "message", "id": "same", "text": "mine"})
    await receive_until(seeker, "ack")
    await supporter.send_json_to(
        {"type": "message", "id": "same", "text": "theirs", "strategy": "Others"}
    )
    error, _ = await receive_until(supporter, "error")
    assert (error["code"], error["ref"]) == ("bad_id", "same")
    texts = await adb(list)(
        Utterance.objects.filter(conversation=pair.conversation).values_list("text", flat=True)
    )
    assert texts == ["mine"]
    await seeker.disconnect()
    await supporter.disconnect()
