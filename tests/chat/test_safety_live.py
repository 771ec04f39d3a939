"""Safety in a live chat: a crisis or an abusive message is flagged after its acknowledgement,
and the seeker, the supporter, a watching staff member and every staff page are told."""

from __future__ import annotations

import pytest

from chat.models import Conversation, StaffMessage
from quality.models import Flag, safety_kinds
from safety import live
from tests.cast import OTTO, RITA, account
from tests.chat.factories import make_pair
from tests.chat.sockets import adb, connect, drain, join, login_cookie, receive, receive_until
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

CRISIS = "honestly everyone would be better off without me"
ABUSE = "shut up, you are a pathetic worthless idiot"


async def _chat():
    pair = await adb(make_pair)()
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    supporter, _ = await join(await adb(session_cookie)(pair.supporter), pair.conversation.pk)
    rita = await adb(lambda: login_cookie(account(RITA)))()
    watcher = await connect(f"/ws/chat/{pair.conversation.pk}/watch/", rita)
    assert (await receive(watcher))["type"] == "hello"
    alerts = await connect("/ws/staff/safety/", rita)
    assert (await receive(alerts))["type"] == "ready"
    return pair, seeker, supporter, watcher, alerts


async def _flags(conversation_id: int) -> list[tuple[str, int, float]]:
    rows = Flag.objects.filter(conversation_id=conversation_id, kind__in=safety_kinds())
    rows = rows.order_by("pk")
    return await adb(list)(rows.values_list("kind", "utterance__position", "score"))


async def test_a_seeker_in_crisis_is_shown_help_and_everyone_is_told(channel_layer: str) -> None:
    pair, seeker, supporter, watcher, alerts = await _chat()
    await seeker.send_json_to({"type": "message", "id": "s-1", "text": CRISIS})

    # The acknowledgement comes first: the screening runs after it.
    ack, _ = await receive_until(seeker, "ack")
    assert ack["id"] == "s-1"
    help_frame, _ = await receive_until(seeker, "safety")
    assert help_frame == {"type": "safety", "show": "help"}
    guidance, before = await receive_until(supporter, "safety")
    assert guidance == {"type": "safety", "show": "guidance"}
    assert [f["text"] for f in before if f["type"] == "message"] == [CRISIS]
    alert, _ = await receive_until(watcher, "safety")
    assert alert["show"] == "alert"
    assert [f["kind"] for f in alert["flags"]] == ["crisis_suicide_self_harm"]
    staff_page = await receive(alerts)
    assert staff_page["type"] == "safety_alert"
    assert staff_page["conversation"] == pair.conversation.pk
    assert staff_page["kind"] == "crisis_suicide_self_harm" and staff_page["crisis"] is True
    assert staff_page["watch_url"] == f"/chat/live/{pair.conversation.pk}/"

    flags = await _flags(pair.conversation.pk)
    assert [(kind, position) for kind, position, _ in flags] == [("crisis_suicide_self_harm", 1)]
    assert 0.5 <= flags[0][2] <= 1
    conversation = await adb(Conversation.objects.get)(pk=pair.conversation.pk)
    assert conversation.safety_screened == conversation.last_seq == 1
    for socket in (seeker, supporter, watcher, alerts):
        await socket.disconnect()


async def test_an_ordinary_message_raises_nothing_and_is_counted(channel_layer: str) -> None:
    pair, seeker, supporter, watcher, alerts = await _chat()
    await seeker.send_json_to(
        {"type": "message", "id": "s-1", "text": "this deadline is killing me, I could scream"}
    )
    await receive_until(seeker, "ack")
    await receive_until(supporter, "message")
    for socket in (seeker, supporter, watcher, alerts):
        assert not [f for f in await drain(socket) if f["type"] in ("safety", "safety_alert")]
    assert await _flags(pair.conversation.pk) == []
    conversation = await adb(Conversation.objects.get)(pk=pair.conversation.pk)
    assert conversation.safety_screened == 1
    for socket in (seeker, supporter, watcher, alerts):
        await socket.disconnect()


async def test_an_abusive_supporter_is_warned_and_staff_are_told(channel_layer: str) -> None:
    pair, seeker, supporter, watcher, alerts = await _chat()
    await supporter.send_json_to(
        {"type": "message", "id": "p-1", "text": ABUSE, "strategy": "Others"}
    )
    warning, _ = await receive_until(supporter, "warning")
    assert warning["code"] == "conduct" and warning["message"]
    alert, _ = await receive_until(watcher, "safety")
    assert [f["kind"] for f in alert["flags"]] == ["conduct_abusive"]
    staff_page = await receive(alerts)
    assert staff_page["kind"] == "conduct_abusive" and staff_page["crisis"] is False
    # The seeker reads the message; she is not shown a crisis panel for it.
    assert not [f for f in await drain(seeker) if f["type"] == "safety"]
    assert [kind for kind, _, _ in await _flags(pair.conversation.pk)] == ["conduct_abusive"]
    for socket in (seeker, supporter, watcher, alerts):
        await socket.disconnect()


async def test_a_resend_is_not_flagged_twice(channel_layer: str) -> None:
    pair, seeker, supporter, watcher, alerts = await _chat()
    for _ in range(2):
        await seeker.send_json_to({"type": "message", "id": "s-1", "text": CRISIS})
        await receive_until(seeker, "ack")
    await receive_until(alerts, "safety_alert")
    assert not [f for f in await drain(alerts) if f["type"] == "safety_alert"]
    assert len(await _flags(pair.conversation.pk)) == 1
    conversation = await adb(Conversation.objects.get)(pk=pair.conversation.pk)
    assert conversation.safety_screened == 1
    for socket in (seeker, supporter, watcher, alerts):
        await socket.disconnect()


async def test_only_staff_may_open_the_alerts_socket() -> None:
    otto = await adb(lambda: login_cookie(account(OTTO)))()
    refused = await connect("/ws/staff/safety/", otto)
    assert (await refused.receive_output(timeout=3))["code"] == 4403
    anonymous = await connect("/ws/staff/safety/")
    assert (await anonymous.receive_output(timeout=3))["code"] == 4403


async def test_staff_write_to_both_workers_and_end_the_chat_fairly(channel_layer: str) -> None:
    pair, seeker, supporter, watcher, alerts = await _chat()
    note = (
        "This is the research team. If you are in danger, please call your local emergency number."
    )
    await watcher.send_json_to({"type": "staff_message", "id": "t-1", "text": note})
    ack, _ = await receive_until(watcher, "ack")
    assert ack == {"type": "ack", "id": "t-1", "staff": True}
    for socket in (seeker, supporter):
        frame, _ = await receive_until(socket, "staff_message")
        assert frame["text"] == note and frame["after_seq"] == 0
    # A resend is stored once; a worker cannot send a staff frame.
    await watcher.send_json_to({"type": "staff_message", "id": "t-1", "text": note})
    await receive_until(watcher, "ack")
    stored = StaffMessage.objects.filter(conversation_id=pair.conversation.pk)
    assert await adb(stored.count)() == 1
    await seeker.send_json_to({"type": "staff_message", "id": "t-2", "text": "I am staff"})
    refused, _ = await receive_until(seeker, "error")
    assert refused["code"] == "unknown_type"
    await watcher.send_json_to({"type": "message", "id": "x", "text": "a dialogue line"})
    assert (await receive_until(watcher, "error"))[0]["code"] == "read_only"

    await watcher.send_json_to({"type": "end", "reason": "staff"})
    for socket in (seeker, supporter, watcher):
        ended, _ = await receive_until(socket, "ended")
        assert ended["reason"] == "staff_ended" and ended["by"] == "staff"
    conversation = await adb(Conversation.objects.select_related("seeker", "supporter").get)(
        pk=pair.conversation.pk
    )
    assert conversation.end_reason == "staff_ended"
    assert conversation.seeker.outcome == conversation.supporter.outcome == "finished"
    await watcher.send_json_to({"type": "staff_message", "id": "t-3", "text": "too late"})
    assert (await receive_until(watcher, "error"))[0]["code"] == "ended"
    for socket in (seeker, supporter, watcher, alerts):
        await socket.disconnect()


async def test_with_live_screening_off_the_quality_job_still_screens(
    channel_layer: str, settings: object
) -> None:
    settings.SAFETY_LIVE_SCREENING = False  # type: ignore[attr-defined]
    pair, seeker, supporter, watcher, alerts = await _chat()
    await seeker.send_json_to({"type": "message", "id": "s-1", "text": CRISIS})
    await receive_until(seeker, "ack")
    await receive_until(supporter, "message")
    for socket in (seeker, supporter, watcher, alerts):
        assert not [f for f in await drain(socket) if f["type"] in ("safety", "safety_alert")]
    assert await _flags(pair.conversation.pk) == []
    conversation = await adb(Conversation.objects.get)(pk=pair.conversation.pk)
    assert conversation.safety_screened == 0 and conversation.last_seq == 1

    assert await adb(live.unscreened)([pair.conversation.pk]) == [pair.conversation.pk]
    assert await adb(live.screen_stored)([pair.conversation.pk]) == 1
    assert [kind for kind, _, _ in await _flags(pair.conversation.pk)] == [
        "crisis_suicide_self_harm"
    ]
    for socket in (seeker, supporter, watcher, alerts):
        await socket.disconnect()
