"""How a message was written, over the real websocket: the `compose` object is checked, stored
with the typing frames the server saw, and judged after the acknowledgement (pasted, too fast,
after coming back, invented, or missing)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chat.models import Utterance
from quality.models import Flag
from tests.chat.factories import make_pair
from tests.chat.sockets import adb, join, receive_until
from tests.crowd.factories import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

TEXT = "I have been feeling so tired of everything lately, and work makes it worse every day."


def compose(**fields: Any) -> dict[str, Any]:
    """What the page sends for TEXT typed over twelve seconds, with `fields` changed."""
    typed = {
        "ms": 12_000,
        "inputs": len(TEXT),
        "typed": len(TEXT),
        "pasted": 0,
        "pastes": 0,
        "deleted": 3,
        "blurs": 0,
        "since_focus_ms": None,
    }
    return typed | fields


async def _seeker(channel_layer: str) -> tuple[Any, int]:
    pair = await adb(make_pair)()
    socket, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    return socket, pair.conversation.pk


async def _send(socket: Any, n: int, frame_compose: Any, typing: int = 0) -> dict[str, Any]:
    for _ in range(typing):
        await socket.send_json_to({"type": "typing"})
    frame = {"type": "message", "id": f"m-{n}", "text": TEXT}
    if frame_compose is not None:
        frame["compose"] = frame_compose
    await socket.send_json_to(frame)
    return (await receive_until(socket, "ack"))[0]


async def _flags(conversation_id: int, settle: float = 0.4) -> list[tuple[str, int]]:
    await asyncio.sleep(settle)  # the judgement runs in the screening batch, after the ack
    rows = Flag.objects.filter(conversation_id=conversation_id, kind__startswith="authenticity_")
    return await adb(list)(
        rows.order_by("utterance__position").values_list("kind", "utterance__position")
    )


async def test_a_message_typed_on_the_page_is_stored_with_it_and_not_flagged(
    channel_layer: str,
) -> None:
    socket, conversation = await _seeker(channel_layer)
    await _send(socket, 1, compose(), typing=3)
    stored = await adb(Utterance.objects.get)(conversation_id=conversation, position=1)
    assert stored.compose == compose() | {"typing_frames": 3}
    assert await _flags(conversation) == []
    await socket.disconnect()


@pytest.mark.parametrize(
    ("changes", "typing", "kind"),
    [
        ({"pasted": 80, "pastes": 1, "typed": 6, "inputs": 6}, 1, "authenticity_pasted"),
        ({"ms": 1_500}, 1, "authenticity_too_fast"),
        ({"since_focus_ms": 600, "blurs": 1}, 2, "authenticity_after_refocus"),
        # Plausible numbers, but no typing frame ever came: a script made them up.
        ({}, 0, "authenticity_unconfirmed"),
    ],
)
async def test_each_signal_is_flagged_on_its_message(
    channel_layer: str, changes: dict[str, Any], typing: int, kind: str
) -> None:
    socket, conversation = await _seeker(channel_layer)
    await _send(socket, 1, compose(**changes), typing=typing)
    assert await _flags(conversation) == [(kind, 1)]
    await socket.disconnect()


async def test_a_client_without_the_page_is_flagged_once_per_chat(channel_layer: str) -> None:
    socket, conversation = await _seeker(channel_layer)
    for n in (1, 2, 3):
        await _send(socket, n, None)
    assert await _flags(conversation) == [("authenticity_no_composition", 1)]
    stored = await adb(list)(
        Utterance.objects.filter(conversation_id=conversation).values_list("compose", flat=True)
    )
    assert stored == [None, None, None]
    await socket.disconnect()


@pytest.mark.parametrize(
    "bad",
    [
        "typed fast",
        {"ms": -1},
        compose(ms="12000"),
        compose(typed=True),
        compose(extra=1),
        compose(since_focus_ms=-5),
    ],
)
async def test_bad_composition_data_is_refused_and_nothing_is_stored(
    channel_layer: str, bad: Any
) -> None:
    socket, conversation = await _seeker(channel_layer)
    await socket.send_json_to({"type": "message", "id": "m-1", "text": TEXT, "compose": bad})
    error, _ = await receive_until(socket, "error")
    assert error["code"] == "bad_compose" and "composition data" in error["message"]
    assert not await adb(Utterance.objects.filter(conversation_id=conversation).exists)()
    await socket.disconnect()
