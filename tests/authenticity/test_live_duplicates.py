"""Near-duplicates across a run, found after each message's acknowledgement: both places
flagged with their matches, only across conversations of one run and one role, never for
short messages; the rule set decides whether they hold approval back, the quality job judges
what a crashed process never did, and reviewers follow the matches."""

from __future__ import annotations

from typing import Any

import pytest

from authenticity.live import check_messages
from authenticity.models import Band, Checked
from chat.models import Conversation, Utterance
from crowd import vocabulary
from quality.judging import judge_pending
from quality.models import Flag
from quality.rule_sets import current_rule_set, save_rule_set_version
from tests.chat.factories import Pair, make_pair, say
from tests.crowd.factories import make_run
from tests.quality.factories import extra, make_conversation

pytestmark = pytest.mark.django_db

PARAGRAPH = (
    "It is completely understandable to feel overwhelmed when so many responsibilities "
    "pile up at once, and your feelings about it are valid."
)
EDITED = PARAGRAPH.replace("valid", "real")  # one shingle of 20 differs
DUPLICATE = Flag.Kind.AUTHENTICITY_DUPLICATE


def _pairs(count: int, run: Any = None, first: int = 900) -> list[Pair]:
    run = run or make_run()
    return [
        make_pair(
            run,
            seeker=extra(vocabulary.SEEKER, first + n),
            supporter=extra(vocabulary.SUPPORTER, first + n),
        )
        for n in range(count)
    ]


def _send(pair: Pair, text: str, *, seeker: bool = False) -> tuple[int, int]:
    """The message stored and judged, as the chat's screening batch would: its place."""
    result = say(pair, pair.seeker if seeker else pair.supporter, text)
    place = (pair.conversation.pk, int(result.ack["seq"]))
    check_messages([place])
    return place


def _duplicates(conversation_id: int) -> list[tuple[int, list[list[int]], float | None]]:
    flags = Flag.objects.filter(conversation_id=conversation_id, kind=DUPLICATE)
    return [
        (f.utterance.position, [[m["conversation"], m["position"]] for m in f.matches], f.score)
        for f in flags.select_related("utterance")
    ]


def test_a_paragraph_sent_into_three_chats_is_flagged_in_each_with_the_others() -> None:
    a, b, c = _pairs(3)
    _send(a, "Hi there, what brings you here today?")
    at_a = _send(a, PARAGRAPH)
    assert _duplicates(a.conversation.pk) == []  # nothing to match yet
    at_b = _send(b, PARAGRAPH)
    at_c = _send(c, PARAGRAPH)
    assert _duplicates(a.conversation.pk) == [(at_a[1], [list(at_b), list(at_c)], 1.0)]
    assert _duplicates(b.conversation.pk) == [(at_b[1], [list(at_a), list(at_c)], 1.0)]
    assert _duplicates(c.conversation.pk) == [(at_c[1], [list(at_a), list(at_b)], 1.0)]
    flag = Flag.objects.get(conversation=c.conversation, kind=DUPLICATE)
    assert flag.detail == "also sent in 2 other places of the run (similarity up to 1.00)"
    # 8 band keys for each long message, none for the short greeting.
    assert Band.objects.filter(conversation=a.conversation).count() == 8


def test_one_word_changed_is_still_a_duplicate_scored_below_one() -> None:
    a, b = _pairs(2)
    _send(a, PARAGRAPH)
    _send(b, EDITED)
    [(_, _, score)] = _duplicates(b.conversation.pk)
    assert score is not None and 0.8 <= score < 1.0


def test_messages_judged_in_one_batch_find_each_other() -> None:
    a, b = _pairs(2)
    places = [
        (pair.conversation.pk, int(say(pair, pair.supporter, PARAGRAPH).ack["seq"]))
        for pair in (a, b)
    ]
    check_messages(places)
    assert _duplicates(a.conversation.pk) == [(places[0][1], [list(places[1])], 1.0)]
    assert _duplicates(b.conversation.pk) == [(places[1][1], [list(places[0])], 1.0)]


def test_other_runs_other_roles_one_conversation_and_short_messages_are_never_matched() -> None:
    a, b = _pairs(2)
    [elsewhere] = _pairs(1, make_run(), first=950)
    _send(a, PARAGRAPH)
    _send(elsewhere, PARAGRAPH)  # another run
    _send(b, PARAGRAPH, seeker=True)  # a seeker quoting it
    _send(a, PARAGRAPH)  # the same chat again
    courtesy = "Hello, how are you? I hope today is okay."
    for pair in (a, b):
        _send(pair, courtesy)  # nine words: courtesies repeat honestly
    for pair in (a, b, elsewhere):
        assert _duplicates(pair.conversation.pk) == []


def test_the_rule_set_sets_the_length_and_the_similarity() -> None:
    rules = current_rule_set()
    rules.pk, rules.duplicate_min_words, rules.duplicate_threshold = None, 5, 0.95
    save_rule_set_version(rules)
    a, b = _pairs(2)
    _send(a, "I know how hard that must be for you")  # nine words, now long enough
    _send(b, "I know how hard that must be for you")
    _send(a, PARAGRAPH)
    _send(b, EDITED)  # under 0.95
    assert [position for position, _, _ in _duplicates(b.conversation.pk)] == [1]


def _judged_copies(rules_blocking: list[str] | None) -> tuple[Conversation, Conversation]:
    """Two finished conversations of one run whose second supporter lines are one paragraph,
    judged live, then by the quality job under a rule set blocking `rules_blocking`."""
    if rules_blocking is not None:
        rules = current_rule_set()
        rules.pk, rules.authenticity_blocking = None, rules_blocking
        save_rule_set_version(rules)
    first, second = make_conversation(), make_conversation()
    Utterance.objects.filter(conversation__in=[first, second], position=4).update(text=PARAGRAPH)
    check_messages([(first.pk, 4), (second.pk, 4)])
    judge_pending()
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second


def test_by_default_a_duplicate_holds_approval_back() -> None:
    for conversation in _judged_copies(None):
        assert conversation.quality_status == "review"
        decision = conversation.quality_decisions.get()
        assert "flag: authenticity_duplicate" in decision.reasons


def test_a_rule_set_may_let_duplicates_only_inform() -> None:
    for conversation in _judged_copies([]):
        assert conversation.quality_status == "approved"
        assert "flag: authenticity_duplicate" in conversation.quality_decisions.get().reasons


def test_the_quality_job_judges_messages_a_crashed_process_never_did() -> None:
    first, second = make_conversation(), make_conversation()
    Utterance.objects.filter(conversation__in=[first, second], position=4).update(text=PARAGRAPH)
    check_messages([(first.pk, 4), (second.pk, 2)])  # second's position 4 was lost in a crash
    assert _duplicates(second.pk) == []
    judge_pending()
    assert _duplicates(second.pk) == [(4, [[first.pk, 4]], 1.0)]
    assert _duplicates(first.pk) == [(4, [[second.pk, 4]], 1.0)]
    # Every message of both chats, which the live checks had seen, is judged now.
    assert Checked.objects.filter(utterance__conversation=second).count() == 16
    assert Checked.objects.filter(utterance__conversation=first).count() == 16
    second.refresh_from_db()
    assert second.quality_status == "review"


def test_a_conversation_the_live_checks_never_saw_is_left_to_the_scan() -> None:
    conversation = make_conversation()
    judge_pending()
    assert not Checked.objects.filter(utterance__conversation=conversation).exists()
    assert not Flag.objects.filter(conversation=conversation, kind__startswith="authenticity_")


def test_a_reviewer_follows_the_matches_to_the_other_conversations(rita_client: Any) -> None:
    a, b = _pairs(2)
    at_a = _send(a, PARAGRAPH)
    at_b = _send(b, PARAGRAPH)
    Conversation.objects.filter(pk=b.conversation.pk).update(quality_status="review")
    flag = Flag.objects.get(conversation=b.conversation, kind=DUPLICATE)
    page = rita_client.get(f"/quality/review/{b.conversation.pk}/").content.decode()
    matches = page.split(f'data-testid="matches-{flag.pk}"')[1].split("</span>")[0]
    link = f'href="/quality/review/{at_a[0]}/#message-{at_a[1]}"'
    assert link in matches and f"conversation {at_a[0]}, message {at_a[1]}" in matches
    other = rita_client.get(f"/quality/review/{at_a[0]}/").content.decode()
    assert f'id="message-{at_a[1]}"' in other
    assert f"/quality/review/{at_b[0]}/#message-{at_b[1]}" in other
