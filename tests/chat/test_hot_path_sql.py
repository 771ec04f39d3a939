"""The raw SQL of the message path is tied to the models: a new field cannot be missed."""

from __future__ import annotations

from chat import sql
from chat.endings import ENDINGS, REQUESTABLE
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun


def _columns(model: type) -> set[str]:
    return {str(f.column) for f in model._meta.concrete_fields}


def test_the_insert_writes_every_column_of_an_utterance_but_its_id() -> None:
    assert set(sql.UTTERANCE_COLUMNS) == _columns(Utterance) - {"id"}
    assert len(sql.UTTERANCE_COLUMNS) == len(set(sql.UTTERANCE_COLUMNS))


def test_the_lock_reads_every_field_of_the_conversation_and_its_run() -> None:
    conversations, runs = sql.LOCK_FIELDS
    assert {str(f.column) for f in conversations} == _columns(Conversation)
    assert {str(f.column) for f in runs} == _columns(CollectionRun)


def test_the_counter_update_covers_the_whole_live_chat_bookkeeping() -> None:
    names = [f.name for f in Conversation._meta.concrete_fields]
    first, last = Conversation.LIVE_FIELDS[0], Conversation.LIVE_FIELDS[-1]
    # Every field declared in the bookkeeping block of the model is written by each message.
    block = names[names.index(first) : names.index(last) + 1]
    assert tuple(block) == Conversation.LIVE_FIELDS
    assert first == "last_seq" and names[-1] == last


def test_every_live_end_reason_has_one_ending() -> None:
    live = set(Conversation.EndReason.values) - {Conversation.EndReason.IMPORTED}
    assert set(ENDINGS) == live
    requested = {
        reason.format(role=role)
        for reason in REQUESTABLE.values()
        for role in (vocabulary.SEEKER, vocabulary.SUPPORTER)
    }
    # The periodic job abandons a chat; staff end one from the live view (chat.staff); a model's
    # chat ends after its last reply or when it cannot reply (evaluation.live).
    ended_by_others = {
        Conversation.EndReason.ABANDONED,
        Conversation.EndReason.STAFF_ENDED,
        Conversation.EndReason.EVALUATED,
        Conversation.EndReason.BACKEND_FAILED,
    }
    assert requested | ended_by_others == live
    assert not requested & ended_by_others
