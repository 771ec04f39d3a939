"""Chats both workers abandoned are ended by the periodic sweep, so nobody waits for a status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import endings
from chat.models import Conversation
from tests.chat.conftest import make_pair

pytestmark = pytest.mark.django_db


def _silent_since(conversation: Conversation, minutes: int) -> None:
    moment = timezone.now() - timedelta(minutes=minutes)
    Conversation.objects.filter(pk=conversation.pk).update(
        started_at=moment, seeker_last_message_at=moment, supporter_last_message_at=moment
    )


def test_it_ends_a_chat_nobody_wrote_in_for_the_runs_limit() -> None:
    pair = make_pair(abandon_after_seconds=1800)
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
    _silent_since(pair.conversation, 29)

    assert endings.end_abandoned_conversations() == 0

    pair.conversation.refresh_from_db()
    assert pair.conversation.state == Conversation.State.ACTIVE
    pair.seeker.refresh_from_db()
    assert pair.seeker.status_code == ""


def test_it_counts_the_latest_message_of_either_side() -> None:
    pair = make_pair(abandon_after_seconds=1800)
    _silent_since(pair.conversation, 60)
    Conversation.objects.filter(pk=pair.conversation.pk).update(
        supporter_last_message_at=timezone.now() - timedelta(minutes=5)
    )

    assert endings.end_abandoned_conversations() == 0


def test_it_is_safe_to_run_twice() -> None:
    pair = make_pair(abandon_after_seconds=60)
    _silent_since(pair.conversation, 5)

    assert endings.end_abandoned_conversations() == 1
    assert endings.end_abandoned_conversations() == 0
    pair.supporter.refresh_from_db()
    assert pair.supporter.status_code == "01"
