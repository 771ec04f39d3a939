"""Rule sets are edited in the admin; an edit becomes a new version, old ones never change."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from quality.models import AutoApprovalRuleSet
from quality.rule_sets import current_rule_set
from tests.cast import ADA, account

pytestmark = pytest.mark.django_db


def form(rules: AutoApprovalRuleSet, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "note": rules.note,
        "finished_end_reasons": '["finished"]',
        "min_utterances": rules.min_utterances,
        "min_improvement": rules.min_improvement,
        "min_supporter_avg_words": rules.min_supporter_avg_words,
        "min_empathy": rules.min_empathy,
        "min_relevance": rules.min_relevance,
        "supporter_criteria_required": rules.supporter_criteria_required,
        "min_seeker_avg_words": rules.min_seeker_avg_words,
        "no_survey_feedback_count": rules.no_survey_feedback_count,
        "no_survey_feedback_above": rules.no_survey_feedback_above,
        "relabel_disagreement_above": rules.relabel_disagreement_above,
        "relabel_min_labellers": rules.relabel_min_labellers,
        "imported_counts_as_finished": "on",
        "max_pasted_share": rules.max_pasted_share,
        "max_chars_per_second": rules.max_chars_per_second,
        "refocus_window_ms": rules.refocus_window_ms,
        "refocus_min_chars": rules.refocus_min_chars,
        "duplicate_min_words": rules.duplicate_min_words,
        "duplicate_threshold": rules.duplicate_threshold,
        "authenticity_blocking": json.dumps(rules.authenticity_blocking),
    }
    data.update(changes)
    return data


def test_editing_a_rule_set_in_the_admin_saves_a_new_version(ada_client: Client) -> None:
    client = ada_client
    v1 = current_rule_set()
    response = client.post(
        f"/admin/quality/autoapprovalruleset/{v1.pk}/change/",
        form(v1, min_relevance=5, note="stricter relevance"),
    )
    assert response.status_code == 302, response.content[:2000]
    assert list(AutoApprovalRuleSet.objects.values_list("version", "min_relevance")) == [
        (2, 5),
        (1, 4),
    ]
    v2 = current_rule_set()
    assert (v2.version, v2.note, v2.created_by) == (2, "stricter relevance", account(ADA))


def test_the_admin_refuses_a_share_above_one_and_keeps_versions_unchanged(
    ada_client: Client,
) -> None:
    client = ada_client
    v1 = current_rule_set()
    response = client.post(
        f"/admin/quality/autoapprovalruleset/{v1.pk}/change/",
        form(v1, relabel_disagreement_above=1.5),
    )
    assert response.status_code == 200
    assert AutoApprovalRuleSet.objects.count() == 1
    assert client.get(f"/admin/quality/autoapprovalruleset/{v1.pk}/delete/").status_code == 403


def test_the_admin_refuses_an_unknown_end_reason(ada_client: Client) -> None:
    client = ada_client
    v1 = current_rule_set()
    response = client.post(
        f"/admin/quality/autoapprovalruleset/{v1.pk}/change/",
        form(v1, finished_end_reasons='["finished", "bored"]'),
    )
    assert response.status_code == 200
    assert "a list of end reasons" in response.content.decode()
    assert AutoApprovalRuleSet.objects.count() == 1
