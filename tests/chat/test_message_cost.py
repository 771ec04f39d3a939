"""The per-message cost of the chat's hot path stays pinned, and its guarantees with it."""

from __future__ import annotations

from typing import Any

import pytest

from chat import messages
from chat.errors import ChatError
from chat.models import Conversation, Utterance
from quality.models import Flag
from tests.chat.factories import make_pair
from tutorial.models import SubTask

EXAMPLE = "It sounds like you are feeling really overwhelmed by everything at work right now."


def _example(order: int, key: str, text: str) -> SubTask:
    return SubTask.objects.create(
        order=order,
        kind=SubTask.Kind.STRATEGY,
        key=key,
        title=key,
        definition="-",
        example_seeker="Work is too much for me.",
        example_supporter=text,
    )


@pytest.mark.django_db
def test_it_stores_a_message_in_at_most_five_queries(
    django_assert_max_num_queries: Any,
) -> None:
    # Inside the test's transaction atomic() is a savepoint: SAVEPOINT, the locking SELECT
    # (conversation and run in one), the INSERT (resends caught by ON CONFLICT), the counters'
    # UPDATE, RELEASE. Before the hot path was tuned it was 6 for the seeker, 7 for the
    # supporter.
    _example(1, "Reflection of feelings", EXAMPLE)  # also the one part of Bob's training
    pair = make_pair(feedback_every=1)
    # The first supporter message reads the tutorial examples; later ones use the cache.
    messages.post_message(
        pair.conversation.pk, pair.supporter.pk, client_id="warm", text="Hi.", strategy="Question"
    )
    with django_assert_max_num_queries(5):
        messages.post_message(
            pair.conversation.pk, pair.seeker.pk, client_id="alice-1", text="I lost my job."
        )
    with django_assert_max_num_queries(5):
        messages.post_message(
            pair.conversation.pk,
            pair.supporter.pk,
            client_id="bob-1",
            text="That sounds hard. What happened?",
            strategy="Question",
        )
    # A resend costs the insert that does nothing and one lookup of the original.
    with django_assert_max_num_queries(6):
        again = messages.post_message(
            pair.conversation.pk, pair.seeker.pk, client_id="alice-1", text="I lost my job."
        )
    assert again.duplicate and again.ack["seq"] == 2
    conversation = Conversation.objects.get(pk=pair.conversation.pk)
    assert (conversation.last_seq, conversation.turns, conversation.pending_feedback_prompt) == (
        3,
        1,
        2,
    )
    assert list(
        Utterance.objects.filter(conversation=conversation).values_list(
            "position", "speaker", "client_message_id"
        )
    ) == [(1, "supporter", "warm"), (2, "seeker", "alice-1"), (3, "supporter", "bob-1")]


@pytest.mark.django_db
def test_it_hands_the_relay_over_only_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    pair = make_pair()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = messages.post_message(
            pair.conversation.pk,
            pair.seeker.pk,
            client_id="alice-1",
            text="I can't sleep.",
            defer_relay=True,
        )
    # Stored, acknowledged, but nothing to relay while the transaction is still open.
    assert Utterance.objects.filter(client_message_id="alice-1").exists()
    assert result.ack == {"type": "ack", "id": "alice-1", "seq": 1}
    assert result.relay == []
    for callback in callbacks:
        callback()
    [event] = result.relay
    assert event["kind"] == "message"
    assert event["message"]["seq"] == 1 and event["message"]["text"] == "I can't sleep."
    assert "strategy" not in event["message"]


@pytest.mark.django_db
def test_it_sees_a_tutorial_example_saved_after_the_cache_was_filled() -> None:
    _example(1, "Question", "What would you like to talk about with me today?")  # Bob's training
    pair = make_pair()
    messages.post_message(
        pair.conversation.pk, pair.supporter.pk, client_id="a-1", text="Hi.", strategy="Question"
    )
    # Saved after the first supporter message filled the cache: the save clears it.
    _example(2, "Reflection of feelings", EXAMPLE)
    copied = messages.post_message(
        pair.conversation.pk,
        pair.supporter.pk,
        client_id="a-2",
        text=EXAMPLE,
        strategy="Reflection of feelings",
    )
    assert copied.warning is not None and copied.warning["code"] == "copied_example"
    assert Flag.objects.filter(utterance__client_message_id="a-2").count() == 1


@pytest.mark.django_db
def test_it_refuses_the_partners_id_once_the_frame_is_well_formed() -> None:
    pair = make_pair()
    messages.post_message(pair.conversation.pk, pair.seeker.pk, client_id="x", text="Hello.")
    # A malformed frame is refused before anything is read or locked, whatever its id.
    with pytest.raises(ChatError) as refused:
        messages.post_message(
            pair.conversation.pk, pair.supporter.pk, client_id="x", text="", strategy="Question"
        )
    assert refused.value.code == "empty_text"
    with pytest.raises(ChatError) as refused:
        messages.post_message(
            pair.conversation.pk, pair.supporter.pk, client_id="x", text="Hi.", strategy="Question"
        )
    assert refused.value.code == "bad_id"
    assert Utterance.objects.filter(conversation=pair.conversation).count() == 1
