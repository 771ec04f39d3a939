"""Survey answers left null by an ending, as quality control and the ESConv export read them.

Quality control counts a seeker survey without all three scores as no survey (docs/quality.md);
the export writes an answer never given as an absent key, never null (docs/dataset.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from chat.models import Conversation
from quality.judging import judge_pending
from quality.models import AutoApprovalRuleSet, Decision
from quality.rule_sets import current_rule_set, save_rule_set_version
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey
from tests.dataset.helpers import assert_raw_layout, export_file
from tests.surveys.endings import BY_NAME, ENDINGS, SEEKER, Ending, chat_that_ends
from tests.surveys.factories import seeker_post_answers, supporter_post_answers

pytestmark = pytest.mark.django_db


def _answered(name: str, alice_client: Client, bob_client: Client) -> Conversation:
    """The chat ends as `name` says; the worker it sends to the survey answers every question."""
    ending = BY_NAME[name]
    pair = chat_that_ends(ending, alice_client, bob_client)
    if ending.answers == SEEKER:
        response = alice_client.post(
            "/surveys/post-chat/", seeker_post_answers(final_emotion_intensity="2")
        )
    else:
        response = bob_client.post("/surveys/post-chat/", supporter_post_answers())
    assert response["Location"] == "/done/"
    pair.conversation.refresh_from_db()
    return pair.conversation


def _rule_set(**changes: object) -> AutoApprovalRuleSet:
    """A new version of the rules in force, as staff save it in the admin."""
    rule_set = current_rule_set()
    for name, value in changes.items():
        setattr(rule_set, name, value)
    return save_rule_set_version(rule_set)


@pytest.mark.parametrize("ending", ENDINGS, ids=str)
def test_quality_control_judges_every_ending_with_its_nulls(
    ending: Ending, alice_client: Client, bob_client: Client
) -> None:
    conversation = _answered(ending.name, alice_client, bob_client)

    counts = judge_pending()

    assert counts.complete
    conversation.refresh_from_db()
    decision = Decision.objects.get(conversation=conversation)
    # Three lines are far below the sixteen utterances the filter asks for, whatever the end.
    assert conversation.quality_status == Conversation.QualityStatus.FILTERED
    assert "utterance_count failed" in decision.reasons
    if ending.reason != "finished":
        assert "seeker_finished failed" in decision.reasons


def test_a_rule_set_that_keeps_a_partner_left_chat_reads_the_missing_ratings_as_no_survey(
    alice_client: Client, bob_client: Client
) -> None:
    # Staff count "the supporter left" as finished and drop the length filter.
    _rule_set(finished_end_reasons=["finished", "supporter_left"], min_utterances=1)
    conversation = _answered("supporter-left-before-writing", alice_client, bob_client)
    survey = SeekerPostChatSurvey.objects.get(conversation=conversation)
    assert (survey.final_emotion_intensity, survey.empathy, survey.relevance) == (2, None, None)

    judge_pending()

    conversation.refresh_from_db()
    decision = Decision.objects.get(conversation=conversation)
    assert conversation.quality_status == Conversation.QualityStatus.REVIEW
    assert decision.has_seeker_survey is False
    assert decision.reasons[0] == "no seeker post-chat survey"
    names = [criterion["name"] for criterion in decision.criteria]
    assert "empathy" not in names and "last_feedback" in names


def _exported(tmp_path: Path) -> list[dict[str, object]]:
    target = tmp_path / "out.json"
    export_file("--status", "all", "--output", str(target))
    records = json.loads(target.read_text(encoding="utf-8"))
    assert isinstance(records, list)
    for record in records:
        assert_raw_layout(record)
    return records


def test_the_export_leaves_out_the_scores_a_seeker_was_not_asked(
    tmp_path: Path, alice_client: Client, bob_client: Client
) -> None:
    _answered("supporter-left-before-writing", alice_client, bob_client)

    [record] = _exported(tmp_path)

    assert record["survey_score"] == {
        "seeker": {"initial_emotion_intensity": "4", "final_emotion_intensity": "2"},
        "supporter": {},
    }
    assert record["seeker_question1"] == "They listened well."
    assert "null" not in json.dumps(record)


def test_the_export_leaves_out_the_detail_a_supporter_was_not_asked(
    tmp_path: Path, alice_client: Client, bob_client: Client
) -> None:
    conversation = _answered("seeker-left-before-writing", alice_client, bob_client)
    assert SupporterPostChatSurvey.objects.get(conversation=conversation).seeker_detail is None

    [record] = _exported(tmp_path)

    assert record["survey_score"] == {
        "seeker": {"initial_emotion_intensity": "4"},
        "supporter": {},
    }
    assert record["supporter_question1"] == "A clear story."
    text = export_file("--status", "all", "--format", "jsonl", "--output", "-")
    [line] = [json.loads(row) for row in text.splitlines() if row.strip()]
    assert line["survey_score"]["supporter"] == {}
