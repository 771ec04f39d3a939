"""Who may not connect, and every bad frame: refused with an error frame, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Conversation, Utterance
from crowd.models import Worker
from tests.cast import CAROL, DAVE, ERIN, GUS
from tests.chat.factories import make_pair
from tests.chat.sockets import (
    adb,
    connect,
    drain,
    empty_session_cookie,
    join,
    receive,
    receive_until,
)
from tests.crowd.factories import session_cookie
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import trained_supporter

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _snapshot(conversation_id: int) -> tuple[Any, ...]:
    conversation = Conversation.objects.get(pk=conversation_id)
    utterances = list(Utterance.objects.filter(conversation_id=conversation_id).values())
    return (
        conversation.state,
        conversation.last_seq,
        conversation.pending_feedback_prompt,
        conversation.pending_feedback_score,
        conversation.seeker_blocks,
        conversation.supporter_blocks,
        utterances,
    )


SUPPORTER_BAD_FRAMES = [
    ("not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    ({"type": "shout", "id": "x"}, "unknown_type"),
    ({"id": "x", "text": "hi"}, "unknown_type"),
    ({"type": "message", "id": "a", "text": "Hi"}, "strategy_required"),
    ({"type": "message", "id": "a", "text": "Hi", "strategy": "Hug"}, "unknown_strategy"),
    ({"type": "message", "id": "a", "text": "   ", "strategy": "Question"}, "empty_text"),
    ({"type": "message", "id": "a", "text": "x" * 101, "strategy": "Question"}, "text_too_long"),
    ({"type": "message", "text": "Hi", "strategy": "Question"}, "bad_id"),
    ({"type": "message", "id": "", "text": "Hi", "strategy": "Question"}, "bad_id"),
    ({"type": "message", "id": "i" * 65, "text": "Hi", "strategy": "Question"}, "bad_id"),
    ({"type": "message", "id": 7, "text": "Hi", "strategy": "Question"}, "bad_id"),
    ({"type": "feedback", "prompt": 1, "score": 5}, "feedback_not_allowed"),
    ({"type": "end", "reason": "finished"}, "end_not_allowed"),
    ({"type": "end", "reason": "partner_unresponsive"}, "end_not_allowed"),
    ({"type": "end", "reason": "because"}, "unknown_reason"),
]

SEEKER_BAD_FRAMES = [
    ({"type": "message", "id": "a", "text": "Hi", "strategy": "Question"}, "strategy_not_allowed"),
    ({"type": "feedback", "prompt": 1, "score": 5}, "no_open_prompt"),
    ({"type": "feedback", "prompt": 1, "score": 6}, "bad_feedback"),
    ({"type": "feedback", "prompt": 1, "score": 0}, "bad_feedback"),
    ({"type": "feedback", "prompt": 1, "score": "5"}, "bad_feedback"),
    ({"type": "feedback", "score": 3}, "bad_feedback"),
    ({"type": "end", "reason": "finished"}, "end_not_allowed"),
]


@pytest.mark.parametrize("role", ["supporter", "seeker"])
async def test_it_refuses_each_bad_frame_and_changes_nothing(role: str) -> None:
    pair = await adb(make_pair)(max_message_chars=100)
    worker = pair.supporter if role == "supporter" else pair.seeker
    cookie = await adb(session_cookie)(worker)
    communicator, _ = await join(cookie, pair.conversation.pk)
    frames = SUPPORTER_BAD_FRAMES if role == "supporter" else SEEKER_BAD_FRAMES
    before = await adb(_snapshot)(pair.conversation.pk)
    for frame, code in frames:
        if isinstance(frame, str):
            await communicator.send_to(text_data=frame)
        else:
            await communicator.send_json_to(frame)
        error = await receive(communicator)
        assert error["type"] == "error", (frame, error)
        assert error["code"] == code, (frame, error)
        assert error["message"]
        if isinstance(frame, dict) and isinstance(frame.get("id"), str) and frame["id"]:
            assert error["ref"] == frame["id"]
        assert await adb(_snapshot)(pair.conversation.pk) == before, frame
    assert await drain(communicator) == []
    await communicator.disconnect()


async def _close_code(path: str, cookie: str | None) -> tuple[int, list[dict[str, Any]]]:
    communicator = await connect(path, cookie)
    frames = []
    while True:
        output = await communicator.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"], frames
        import json

        frames.append(json.loads(output["text"]))


async def test_it_refuses_a_browser_without_a_worker() -> None:
    pair = await adb(make_pair)()
    code, frames = await _close_code(f"/ws/chat/{pair.conversation.pk}/", None)
    assert (code, frames) == (4401, [])
    empty_session = await adb(empty_session_cookie)()
    code, _ = await _close_code(f"/ws/chat/{pair.conversation.pk}/", empty_session)
    assert code == 4401


async def test_it_refuses_an_outsider_from_another_conversation() -> None:
    pair = await adb(make_pair)()
    other = await adb(lambda: make_pair(pair.run, seeker=CAROL, supporter=DAVE))()
    carol = await adb(session_cookie)(other.seeker)
    code, frames = await _close_code(f"/ws/chat/{pair.conversation.pk}/", carol)
    assert (code, frames) == (4403, [])


async def test_it_refuses_a_conversation_that_does_not_exist() -> None:
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    code, _ = await _close_code("/ws/chat/999999/", cookie)
    assert code == 4404


@pytest.mark.parametrize(
    "qualification", [Worker.Qualification.IN_TRAINING, Worker.Qualification.FAILED]
)
async def test_it_refuses_an_unqualified_supporter(qualification: str) -> None:
    pair = await adb(make_pair)()
    # The supporter's qualification is withdrawn after matching (e.g. by staff).
    await adb(Worker.objects.filter(pk=pair.supporter.pk).update)(qualification=qualification)
    cookie = await adb(session_cookie)(pair.supporter)
    code, frames = await _close_code(f"/ws/chat/{pair.conversation.pk}/", cookie)
    assert (code, frames) == (4403, [])


async def test_it_sends_ended_then_closes_4409_for_an_ended_conversation() -> None:
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    communicator, _ = await join(cookie, pair.conversation.pk)
    await communicator.send_json_to({"type": "end", "reason": "leave"})
    ended, _ = await receive_until(communicator, "ended")
    await communicator.send_json_to({"type": "message", "id": "late", "text": "hello?"})
    error, _ = await receive_until(communicator, "error")
    assert error["code"] == "ended"
    await communicator.disconnect()

    code, frames = await _close_code(f"/ws/chat/{pair.conversation.pk}/", cookie)
    assert code == 4409
    assert frames == [ended]


async def test_it_does_not_let_unmatched_workers_in() -> None:
    pair = await adb(make_pair)()
    # Erin and Gus wait in the same run, matched with nobody yet.
    erin = await adb(waiting_seeker)(ERIN, pair.run)
    gus = await adb(trained_supporter)(GUS, pair.run)
    for worker in (erin, gus):
        cookie = await adb(session_cookie)(worker)
        code, _ = await _close_code(f"/ws/chat/{pair.conversation.pk}/", cookie)
        assert code == 4403
