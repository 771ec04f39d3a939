"""Chats both workers abandoned are ended by the periodic sweep, so nobody waits for a status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import endings
from chat.models import Conversation
from tests.chat.factories import Pair, make_pair, say, set_times

pytestmark = pytest.mark.django_db


def _silent_since(conversation: Conversation, minutes: int) -> None:
    """Both wrote, then nothing: the chat's clock is moved back `minutes` (see set_times)."""
    moment = timezone.now() - timedelta(minutes=minutes)
    set_times(
        conversation,
        started_at=moment,
        seeker_last_message_at=moment,
        supporter_last_message_at=moment,
    )


def _both_wrote(pair: Pair) -> None:
    say(pair, pair.seeker, "Hello, is anyone there?")
    say(pair, pair.supporter, "Hi, I am here. What is on your mind?", strategy="Question")


def test_it_ends_a_chat_nobody_wrote_in_for_the_runs_limit() -> None:
    pair = make_pair(abandon_after_seconds=1800)
    _both_wrote(pair)
    _silent_since(pair.conversation, 31)

    assert endings.end_abandoned_conversations() == 1

    pair.conversation.refresh_from_db()
    assert pair.conversation.state == Conversation.State.ENDED
    assert pair.conversation.end_reason == Conversation.EndReason.ABANDONED
    for worker in (pair.seeker, pair.supporter):
        worker.refresh_from_db()
        assert (worker.status_code, worker.stage) == ("01", "done")
        assert worker.pay_total == pair.run.base_pay


def test_it_leaves_a_chat_that_is_still_inside_the_limit() -> None:
    pair = make_pair(abandon_after_seconds=1800)
    _both_wrote(pair)
    _silent_since(pair.conversation, 29)

    assert endings.end_abandoned_conversations() == 0

    pair.conversation.refresh_from_db()
    assert pair.conversation.state == Conversation.State.ACTIVE
    pair.seeker.refresh_from_db()
    assert pair.seeker.status_code == ""


def test_it_counts_the_latest_message_of_either_side() -> None:
    pair = make_pair(abandon_after_seconds=1800)
    _both_wrote(pair)
    _silent_since(pair.conversation, 60)
    set_times(pair.conversation, supporter_last_message_at=timezone.now() - timedelta(minutes=5))

    assert endings.end_abandoned_conversations() == 0


def test_it_is_safe_to_run_twice() -> None:
    pair = make_pair(abandon_after_seconds=60)
    _both_wrote(pair)
    _silent_since(pair.conversation, 5)

    assert endings.end_abandoned_conversations() == 1
    assert endings.end_abandoned_conversations() == 0
    pair.supporter.refresh_from_db()
    assert pair.supporter.status_code == "01"
