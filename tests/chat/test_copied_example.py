"""A supporter message that copies a tutorial example is stored, flagged and warned about."""

from __future__ import annotations

import pytest

from chat import copies
from chat.models import Utterance
from quality.models import Flag
from tests.chat.factories import make_pair
from tests.chat.sockets import adb, drain, join, receive_until
from tests.crowd.factories import session_cookie
from tutorial.models import SubTask

EXAMPLE = "It sounds like you are feeling really overwhelmed by everything at work right now."


def _tutorial() -> None:
    SubTask.objects.create(
        order=1,
        kind=SubTask.Kind.STRATEGY,
        key="Reflection of feelings",
        title="Reflection of feelings",
        definition="Say back the feeling you hear.",
        example_seeker="Work is too much for me.",
        example_supporter=EXAMPLE,
    )
    SubTask.objects.create(
        order=2,
        kind=SubTask.Kind.STRATEGY,
        key="Others",
        title="Others",
        definition="Greetings and the rest.",
        example_seeker="Hi",
        example_supporter="Hello there!",
    )


@pytest.mark.django_db
def test_it_recognises_near_verbatim_copies_only() -> None:
    _tutorial()
    assert copies.copied_example(EXAMPLE) is not None
    assert copies.copied_example(EXAMPLE.upper().replace(",", "")) is not None
    assert (
        copies.copied_example(
            "It sounds like you are feeling so overwhelmed by everything at work right now!"
        )
        is not None
    )
    assert copies.copied_example("You seem worn out by your job lately, is that right?") is None
    # Short examples ("Hello there!") are too common to count as copies.
    assert copies.copied_example("Hello there!") is None


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_it_flags_and_warns_but_still_relays(channel_layer: str) -> None:
    await adb(_tutorial)()  # Bob's training quizzes him on these two parts
    pair = await adb(make_pair)()
    supporter, _ = await join(await adb(session_cookie)(pair.supporter), pair.conversation.pk)
    seeker, _ = await join(await adb(session_cookie)(pair.seeker), pair.conversation.pk)
    await supporter.send_json_to(
        {"type": "message", "id": "c-1", "text": EXAMPLE, "strategy": "Reflection of feelings"}
    )
    warning, _ = await receive_until(supporter, "warning")
    assert warning["code"] == "copied_example" and warning["message"]
    relayed, _ = await receive_until(seeker, "message")
    assert relayed["text"] == EXAMPLE
    assert not [f for f in await drain(seeker) if f["type"] == "warning"]
    utterance = await adb(Utterance.objects.get)(client_message_id="c-1")
    # (The frames carry no composition data: how they were written is judged on its own.)
    flags = Flag.objects.filter(utterance=utterance).exclude(kind__startswith="authenticity_")
    assert await adb(list)(flags.values_list("kind", flat=True)) == ["copied_example"]

    await supporter.send_json_to(
        {"type": "message", "id": "c-2", "text": "What happened at work?", "strategy": "Question"}
    )
    await receive_until(supporter, "ack")
    frames = await drain(supporter)
    assert not [f for f in frames if f["type"] == "warning"]
    assert await adb(Flag.objects.filter(kind="copied_example").count)() == 1
    await supporter.disconnect()
    await seeker.disconnect()
