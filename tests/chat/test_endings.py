"""Every way a chat ends: state, outcomes (status code and stage), and both sides told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import frames
from chat.models import Conversation
from crowd.models import Worker
from tests.chat.factories import make_pair, set_times
from tests.chat.sockets import adb, drain, join, receive_until
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _chat(**run_settings):
    pair = await adb(make_pair)(**run_settings)
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    supporter, _ = await join(await adb(session_cookie)(pair.supporter), pair.conversation.pk)
    return pair, seeker, supporter


async def _exchange(seeker, supporter, turns: int, start: int = 0) -> None:
    for n in range(start, start + turns):
        await seeker.send_json_to({"type": "message", "id": f"s{n}", "text": f"seeker {n}"})
        await receive_until(seeker, "ack")
        await supporter.send_json_to(
            {"type": "message", "id": f"p{n}", "text": f"supporter {n}", "strategy": "Question"}
        )
        await receive_until(supporter, "ack")


def _state(pair):
    conversation = Conversation.objects.get(pk=pair.conversation.pk)
    seeker = Worker.objects.get(pk=pair.seeker.pk)
    supporter = Worker.objects.get(pk=pair.supporter.pk)
    return conversation, seeker, supporter


async def test_it_lets_the_seeker_finish_after_the_minimum(channel_layer: str) -> None:
    pair, seeker, supporter = await _chat(min_turns_to_end=3, min_seconds_to_end=0)
    await _exchange(seeker, supporter, 2)
    await seeker.send_json_to({"type": "end", "reason": "finished"})
    error, _ = await receive_until(seeker, "error")
    assert error["code"] == "end_not_allowed"

    await _exchange(seeker, supporter, 1, start=2)
    # The status after the supporter's third message shows 3 turns and unlocks the end.
    statuses = [f["status"] for f in await drain(seeker) if "status" in f]
    assert statuses[-1]["turns"] == 3
    assert statuses[-1]["can_end"] is True
    # Only the seeker may end a finished conversation.
    await supporter.send_json_to({"type": "end", "reason": "finished"})
    error, _ = await receive_until(supporter, "error")
    assert error["code"] == "end_not_allowed"

    await seeker.send_json_to({"type": "end", "reason": "finished"})
    seeker_end, _ = await receive_until(seeker, "ended")
    supporter_end, _ = await receive_until(supporter, "ended")
    assert (seeker_end["reason"], seeker_end["by"]) == ("finished", "seeker")
    assert (supporter_end["reason"], supporter_end["by"]) == ("finished", "seeker")
    conversation, s, p = await adb(_state)(pair)
    assert (conversation.state, conversation.end_reason, conversation.ended_by) == (
        "ended",
        "finished",
        "seeker",
    )
    assert conversation.ended_at is not None
    assert (s.status_code, s.stage) == ("03", "post_survey")
    assert (p.status_code, p.stage) == ("03", "post_survey")
    assert seeker_end["next_url"] == supporter_end["next_url"] == "/surveys/post-chat/"

    # A second ending changes nothing.
    await supporter.send_json_to({"type": "end", "reason": "leave"})
    error, _ = await receive_until(supporter, "error")
    assert error["code"] == "ended"
    conversation2, s2, p2 = await adb(_state)(pair)
    assert (conversation2.end_reason, s2.status_code, p2.status_code) == ("finished", "03", "03")


@pytest.mark.parametrize("leaver", ["seeker", "supporter"])
async def test_it_lets_either_side_leave(channel_layer: str, leaver: str) -> None:
    pair, seeker, supporter = await _chat()
    me, partner = (seeker, supporter) if leaver == "seeker" else (supporter, seeker)
    await me.send_json_to({"type": "end", "reason": "leave"})
    mine, _ = await receive_until(me, "ended")
    theirs, _ = await receive_until(partner, "ended")
    assert mine["reason"] == theirs["reason"] == f"{leaver}_left"
    assert mine["by"] == theirs["by"] == leaver
    assert mine["next_url"] == "/done/"
    # The one left behind is told, in plain words, that their partner left.
    assert mine["message"] == "You left the conversation."
    assert theirs["message"].startswith(
        "The help-seeker left" if leaver == "seeker" else "Your supporter left"
    )
    assert "not your fault" in theirs["message"]
    conversation, s, p = await adb(_state)(pair)
    leaving, staying = (s, p) if leaver == "seeker" else (p, s)
    assert (leaving.status_code, leaving.stage) == ("01", "done")
    assert (staying.status_code, staying.stage) == ("02", "post_survey")
    assert conversation.ended_by == leaver


async def test_it_lets_a_worker_report_a_silent_partner(channel_layer: str) -> None:
    pair, seeker, supporter = await _chat(partner_silence_seconds=60)
    await _exchange(seeker, supporter, 1)
    await supporter.send_json_to({"type": "end", "reason": "partner_unresponsive"})
    error, _ = await receive_until(supporter, "error")
    assert error["code"] == "end_not_allowed"

    # The seeker's last message was two minutes ago (the chat's clock moved back).
    await adb(set_times)(
        pair.conversation, seeker_last_message_at=timezone.now() - timedelta(seconds=120)
    )
    await supporter.send_json_to({"type": "end", "reason": "partner_unresponsive"})
    mine, _ = await receive_until(supporter, "ended")
    theirs, _ = await receive_until(seeker, "ended")
    assert mine["reason"] == "partner_unresponsive" and mine["by"] == "supporter"
    assert theirs["next_url"] == "/done/"
    conversation, s, p = await adb(_state)(pair)
    assert (p.status_code, p.stage) == ("02", "post_survey")
    assert (s.status_code, s.stage) == ("01", "done")
    assert (conversation.end_reason, conversation.ended_by) == ("partner_unresponsive", "supporter")


async def test_it_counts_turns_as_exchanges_of_blocks() -> None:
    pair, seeker, supporter = await _chat()
    # seeker, seeker, supporter, seeker, supporter, supporter: blocks 2 and 2 → 2 turns.
    plan = [(seeker, None), (seeker, None), (supporter, "Question"), (seeker, None)]
    plan += [(supporter, "Others"), (supporter, "Information")]
    for n, (who, strategy) in enumerate(plan):
        frame = {"type": "message", "id": f"m{n}", "text": f"message {n}"}
        if strategy:
            frame["strategy"] = strategy
        await who.send_json_to(frame)
        await receive_until(who, "ack")
    conversation, _, _ = await adb(_state)(pair)
    assert (conversation.seeker_blocks, conversation.supporter_blocks, conversation.turns) == (
        2,
        2,
        2,
    )


async def test_staff_watching_are_told_the_end_reason_not_a_worker_s_sentence() -> None:
    conversation = Conversation(end_reason="supporter_left", ended_by="supporter")
    assert frames.ended_words(conversation, "staff") == (
        "The conversation has ended: the supporter left early."
    )
    assert frames.ended_words(conversation, "seeker").startswith("Your supporter left")
