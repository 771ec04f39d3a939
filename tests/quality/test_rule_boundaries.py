"""The filter and auto-approval rule pinned at every threshold: just below, at, just above."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Conversation
from quality.judging import judge_pending
from quality.models import AutoApprovalRuleSet, Decision, Flag
from quality.rule_sets import current_rule_set, save_rule_set_version
from tests.quality.factories import averaging, make_conversation

pytestmark = pytest.mark.django_db

# 16 utterances: 8 from the seeker, 8 from the supporter.
BELOW, AT, ABOVE = "below", "at", "above"


def judged(**kwargs: Any) -> tuple[str, Decision]:
    conversation = make_conversation(**kwargs)
    judge_pending()
    conversation.refresh_from_db()
    decision = Decision.objects.get(conversation=conversation)
    assert decision.outcome == conversation.quality_status
    return conversation.quality_status, decision


def criterion(decision: Decision, name: str) -> dict[str, Any]:
    return next(c for c in decision.criteria if c["name"] == name)


def test_it_approves_the_baseline_with_every_criterion_exactly_at_its_threshold() -> None:
    status, decision = judged()
    assert status == "approved"
    assert criterion(decision, "improvement") == {
        "name": "improvement",
        "value": 1,
        "threshold": 1,
        "held": True,
        "required": False,
    }
    assert criterion(decision, "supporter_avg_words")["value"] == 8.0
    assert criterion(decision, "seeker_avg_words")["value"] == 6.0
    assert criterion(decision, "supporter_criteria_held")["value"] == 4
    assert decision.rule_set_version == 1
    assert decision.has_seeker_survey is True


@pytest.mark.parametrize(
    ("count", "expected"), [(15, "filtered"), (16, "approved"), (17, "approved")]
)
def test_it_filters_fewer_than_16_utterances(count: int, expected: str) -> None:
    n_seeker, n_supporter = (count + 1) // 2, count // 2
    status, decision = judged(
        utterances=count, seeker_words=[6] * n_seeker, supporter_words=[8] * n_supporter
    )
    assert status == expected
    assert criterion(decision, "utterance_count")["held"] is (count >= 16)


@pytest.mark.parametrize(
    ("end_reason", "expected"),
    [
        ("finished", "approved"),
        ("imported", "approved"),
        ("seeker_left", "filtered"),
        ("supporter_left", "filtered"),
        ("partner_unresponsive", "filtered"),
    ],
)
def test_it_filters_conversations_the_seeker_did_not_finish(end_reason: str, expected: str) -> None:
    status, decision = judged(end_reason=end_reason)
    assert status == expected
    assert criterion(decision, "seeker_finished")["value"] == end_reason


def test_it_counts_an_extra_end_reason_as_finished_when_the_rule_set_says_so() -> None:
    rules = current_rule_set()
    rules.finished_end_reasons = ["finished", "partner_unresponsive"]
    rules.note = "accept unresponsive partners"
    save_rule_set_version(rules)
    status, decision = judged(end_reason="partner_unresponsive")
    assert status == "approved"
    assert decision.rule_set_version == 2
    assert AutoApprovalRuleSet.objects.get(version=1).finished_end_reasons == ["finished"]


def test_it_leaves_active_conversations_alone() -> None:
    conversation = make_conversation(state="active", end_reason="")
    counts = judge_pending()
    conversation.refresh_from_db()
    assert conversation.quality_status == "pending"
    assert counts.judged == 0


# Supporter criteria: 3 of 4 must hold. Relevance fails (3 < 4) in these cases, so the
# criterion under test decides between review (2 of 4) and approved (3 of 4).


@pytest.mark.parametrize(
    ("final", "expected"), [(4, "review"), (3, "approved"), (2, "approved")]
)  # improvement 0 / 1 / 2 from an initial 4
def test_it_needs_an_improvement_of_1(final: int, expected: str) -> None:
    status, decision = judged(final=final, relevance=3)
    assert status == expected
    assert criterion(decision, "improvement")["value"] == 4 - final
    if expected == "review":
        assert "improvement failed" in decision.reasons


@pytest.mark.parametrize(
    ("total", "expected"), [(63, "review"), (64, "approved"), (65, "approved")]
)  # 7.875 / 8 / 8.125 words per supporter utterance
def test_it_needs_supporter_utterances_of_8_words_on_average(total: int, expected: str) -> None:
    status, decision = judged(supporter_words=averaging(total, 8), relevance=3)
    assert status == expected
    assert criterion(decision, "supporter_avg_words")["value"] == total / 8


@pytest.mark.parametrize(("empathy", "expected"), [(2, "review"), (3, "approved"), (4, "approved")])
def test_it_needs_empathy_of_3(empathy: int, expected: str) -> None:
    status, _ = judged(empathy=empathy, relevance=3)
    assert status == expected


@pytest.mark.parametrize(
    ("relevance", "expected"), [(3, "review"), (4, "approved"), (5, "approved")]
)
def test_it_needs_relevance_of_4(relevance: int, expected: str) -> None:
    status, _ = judged(relevance=relevance, empathy=2)
    assert status == expected


def test_it_approves_with_exactly_three_supporter_criteria_and_not_two() -> None:
    assert judged(relevance=3)[0] == "approved"
    assert judged(relevance=3, empathy=2)[0] == "review"


@pytest.mark.parametrize(
    ("total", "expected"), [(47, "review"), (48, "approved"), (49, "approved")]
)  # 5.875 / 6 / 6.125 words per seeker utterance
def test_the_seeker_criterion_must_hold_even_when_all_supporter_criteria_do(
    total: int, expected: str
) -> None:
    status, decision = judged(seeker_words=averaging(total, 8))
    assert status == expected
    assert criterion(decision, "supporter_criteria_held")["value"] == 4
    assert criterion(decision, "seeker_avg_words")["held"] is (expected == "approved")


def test_it_never_rejects_automatically() -> None:
    status, _ = judged(final=5, empathy=1, relevance=1, seeker_words=1, supporter_words=1)
    assert status == "review"


def test_a_missing_improvement_counts_as_not_held() -> None:
    # Only imported data lacks the initial intensity (the pre-chat form requires it).
    status, decision = judged(end_reason="imported", initial=None, relevance=3)
    assert status == "review"
    assert criterion(decision, "improvement") | {"held": False} == criterion(
        decision, "improvement"
    )
    assert criterion(decision, "improvement")["value"] is None


# Without a seeker post-chat survey: both lengths AND the last two feedback scores > 4.


@pytest.mark.parametrize(
    ("feedback", "expected"),
    [
        ((5, 5), "approved"),
        ((4, 5), "review"),  # 4 is not greater than 4
        ((5, 4), "review"),
        ((1, 5, 5), "approved"),  # only the last two count
        ((5,), "review"),  # one score is missing
        ((), "review"),  # no feedback at all
    ],
)
def test_it_judges_a_conversation_without_survey_on_the_last_two_feedback_scores(
    feedback: tuple[int, ...], expected: str
) -> None:
    status, decision = judged(seeker_survey=False, feedback=feedback)
    assert status == expected
    assert decision.has_seeker_survey is False
    assert criterion(decision, "last_feedback")["value"] == list(feedback[-2:])
    assert "no seeker post-chat survey" in decision.reasons


@pytest.mark.parametrize(
    ("supporter_total", "seeker_total", "expected"),
    [
        (63, 48, "review"),
        (64, 48, "approved"),
        (65, 48, "approved"),
        (64, 47, "review"),
        (64, 49, "approved"),
    ],
)
def test_without_survey_both_length_criteria_must_hold(
    supporter_total: int, seeker_total: int, expected: str
) -> None:
    status, _ = judged(
        seeker_survey=False,
        feedback=(5, 5),
        supporter_words=averaging(supporter_total, 8),
        seeker_words=averaging(seeker_total, 8),
    )
    assert status == expected


@pytest.mark.parametrize("missing", ["final", "empathy", "relevance"])
def test_a_survey_with_a_missing_score_counts_as_no_survey(missing: str) -> None:
    # Only imported data has a survey with a score missing (the post-chat form requires each).
    status, decision = judged(end_reason="imported", **{missing: None}, feedback=())
    assert decision.has_seeker_survey is False
    assert status == "review"
    status, decision = judged(end_reason="imported", **{missing: None}, feedback=(5, 5))
    assert status == "approved"


def test_a_flagged_conversation_goes_to_review_even_when_the_numbers_pass() -> None:
    # The supporter's last line copies a tutorial example: the chat flags it (and its 24 words
    # keep the supporter's average above 8).
    conversation = make_conversation(copies_example=True)
    assert Flag.objects.filter(conversation=conversation, kind=Flag.Kind.COPIED_EXAMPLE).exists()
    judge_pending()
    conversation.refresh_from_db()
    assert conversation.quality_status == "review"
    decision = Decision.objects.get(conversation=conversation)
    assert "flag: copied_example" in decision.reasons


def test_the_supporters_detail_rating_is_recorded_but_not_required() -> None:
    status, decision = judged(seeker_detail=1)
    assert status == "approved"
    assert criterion(decision, "seeker_detail")["value"] == 1


def test_thresholds_come_from_the_newest_rule_set_version() -> None:
    rules = current_rule_set()
    rules.min_utterances = 18
    save_rule_set_version(rules)
    status, decision = judged()
    assert status == "filtered"
    assert decision.rule_set_version == 2
    assert criterion(decision, "utterance_count")["threshold"] == 18
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "near_miss"),
    [
        ({"relevance": 3, "empathy": 2}, True),  # 2 of 4 supporter criteria: one short
        ({"seeker_words": 5}, True),  # only the seeker's length fails
        ({"relevance": 3, "empathy": 2, "seeker_words": 5}, False),
        ({"relevance": 3, "empathy": 2, "final": 4}, False),  # 1 of 4: two short
        ({"seeker_survey": False, "feedback": (5, 4)}, True),
        ({"seeker_survey": False, "feedback": (5,), "seeker_words": 5}, False),
        ({}, False),  # approved
    ],
)
def test_it_marks_near_misses_for_the_reviewer(kwargs: dict[str, Any], near_miss: bool) -> None:
    from quality.rules import NEAR_MISS

    _, decision = judged(**kwargs)
    assert (NEAR_MISS in decision.reasons) is near_miss


@pytest.mark.parametrize(("needs_review", "status"), [(False, "approved"), (True, "review")])
def test_partners_from_one_network_hold_approval_back_only_where_the_run_says(
    needs_review: bool, status: str
) -> None:
    conversation = make_conversation()
    Flag.objects.create(conversation=conversation, kind=Flag.Kind.SAME_NETWORK)
    run = conversation.run
    run.same_network_needs_review = needs_review
    run.save()
    judge_pending()
    conversation.refresh_from_db()
    assert conversation.quality_status == status
