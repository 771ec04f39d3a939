"""Rule calibration: kappa by hand, the grid's table, claims, labels per reviewer, activation,
and the calibrate_rules command (docs/quality.md, "Rule calibration")."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from chat.models import Conversation
from crowd.models import CollectionRun
from quality import calibration
from quality.agreement import cohen_kappa
from quality.calibration import GRID, Row, evaluate, grid, sort_rows
from quality.errors import QualityError
from quality.judging import judge_pending
from quality.models import (
    AutoApprovalRuleSet,
    CalibrationClaim,
    CalibrationLabel,
    CalibrationSample,
    Decision,
)
from quality.rule_sets import current_rule_set
from quality.rules import ConversationFacts
from tests.cast import RITA, VERA, account
from tests.quality.factories import make_conversation, quality_run

T, F = True, False
DEFAULTS = {
    "min_improvement": 1,
    "min_supporter_avg_words": 8.0,
    "min_empathy": 3,
    "min_relevance": 4,
    "supporter_criteria_required": 3,
    "min_seeker_avg_words": 6.0,
}

# --------------------------------------------------------------------------- kappa by hand


def test_it_gives_one_for_perfect_agreement() -> None:
    assert cohen_kappa([(T, T), (F, F), (T, T), (F, F)]) == pytest.approx(1.0)


def test_it_gives_zero_for_agreement_at_chance() -> None:
    # p_o = 2/4; each side says yes half the time, so p_e = .5·.5 + .5·.5 = .5: κ = 0.
    assert cohen_kappa([(T, T), (T, F), (F, T), (F, F)]) == pytest.approx(0.0)


def test_it_matches_a_hand_computed_intermediate_kappa() -> None:
    # 10 items: both yes 6, a yes b no 2, a no b yes 1, both no 1.
    # p_o = 7/10; a says yes 8/10, b 7/10: p_e = .8·.7 + .2·.3 = .62; κ = .08/.38 = 4/19.
    pairs = [(T, T)] * 6 + [(T, F)] * 2 + [(F, T)] + [(F, F)]
    assert cohen_kappa(pairs) == pytest.approx(4 / 19)


def test_it_calls_kappa_undefined_when_both_sides_use_one_label() -> None:
    assert cohen_kappa([(T, T), (T, T)]) is None
    assert cohen_kappa([]) is None
    # One side with one label only is defined (and here no better than chance).
    assert cohen_kappa([(T, T), (T, F)]) == pytest.approx(0.0)


# --------------------------------------------------------------------------- the grid, pure


def _strong(pk: int) -> ConversationFacts:
    """Facts that pass every threshold of the grid."""
    return ConversationFacts(
        pk,
        "finished",
        5,
        utterance_count=20,
        seeker_utterances=10,
        seeker_words=100,
        supporter_utterances=10,
        supporter_words=120,
        final_emotion_intensity=1,
        empathy=5,
        relevance=5,
        open_flags=["copied_example"],
    )


def test_the_grid_has_every_combination_once() -> None:
    rows = grid()
    assert len(rows) == 3**6
    assert len({tuple(r.values()) for r in rows}) == len(rows)
    assert DEFAULTS in rows
    assert set(rows[0]) == set(GRID) == set(calibration.GRID_HEADINGS)


def test_undefined_kappa_is_none_and_its_rows_sort_last() -> None:
    # Every candidate approves both (flags are left out), and the reviewer approved both.
    facts = {1: _strong(1), 2: _strong(2)}
    rows = evaluate({"rita": {1: T, 2: T}}, facts, AutoApprovalRuleSet(), grid()[:5])
    assert [r.kappas["rita"] for r in rows] == [None] * 5
    assert all(r.mean is None and r.approved == 2 for r in rows)
    mixed = sort_rows(
        [
            Row({"a": 1}, {"rita": None}, None, 0),
            Row({"a": 2}, {"rita": 0.2}, 0.2, 0),
            Row({"a": 3}, {"rita": 0.9}, 0.9, 0),
            Row({"a": 4}, {"rita": -0.5}, -0.5, 0),
        ]
    )
    assert [r.thresholds["a"] for r in mixed] == [3, 2, 4, 1]


def test_the_mean_is_undefined_when_one_reviewer_is() -> None:
    assert calibration.mean_kappa({"rita": 1.0, "vera": 0.0}) == pytest.approx(0.5)
    assert calibration.mean_kappa({"rita": 1.0, "vera": None}) is None


# --------------------------------------------------------------------------- the real flow


@pytest.fixture
def sampled() -> tuple[CollectionRun, list[Conversation]]:
    """Four judged conversations in a drawn sample, with their outcome under the defaults:
    approved, review (2 of 4 supporter criteria), review (seeker too short), approved."""
    conversations = [
        make_conversation(),
        make_conversation(relevance=3, empathy=2),
        make_conversation(seeker_words=5),
        make_conversation(),
    ]
    judge_pending()
    run = quality_run()
    calibration.draw_sample(run, size=10, seed=7)
    return run, conversations


def _label_all(run: CollectionRun, reviewer_actor: object, verdicts: dict[int, bool]) -> None:
    reviewer = account(reviewer_actor)  # type: ignore[arg-type]
    sample = CalibrationSample.objects.get(run=run)
    while (conversation := calibration.next_to_label(sample, reviewer)) is not None:
        label = "approved" if verdicts[conversation.pk] else "not_approved"
        calibration.record_label(sample, conversation.pk, reviewer, label)


@pytest.mark.django_db
def test_it_draws_the_same_sample_from_the_same_seed(sampled) -> None:
    run, conversations = sampled
    drawn = list(CalibrationSample.objects.get(run=run).items.values_list("conversation_id"))
    assert sorted(pk for (pk,) in drawn) == sorted(c.pk for c in conversations)
    with pytest.raises(QualityError, match="already has a calibration sample"):
        calibration.draw_sample(run, size=10, seed=7)
    ids = sorted(c.pk for c in conversations)
    assert [pk for (pk,) in drawn] == random.Random(7).sample(ids, 4)


@pytest.mark.django_db
def test_the_table_gives_each_reviewers_kappa_the_mean_and_inter_reviewer_kappa(sampled) -> None:
    run, (c1, c2, c3, c4) = sampled
    # Under the defaults the rules approve c1 and c4 only.
    _label_all(run, RITA, {c1.pk: T, c2.pk: F, c3.pk: F, c4.pk: T})  # agrees fully
    _label_all(run, VERA, {c1.pk: T, c2.pk: T, c3.pk: F, c4.pk: F})  # at chance
    table = calibration.calibration_table(run)

    assert table.reviewers == ["rita", "vera"]
    assert table.label_counts == {"rita": 4, "vera": 4}
    # Rita [T F F T] against Vera [T T F F]: p_o = .5, p_e = .5, κ = 0.
    assert table.inter_reviewer == [("rita", "vera", 4, pytest.approx(0.0))]
    assert len(table.rows) == 3**6
    default = next(r for r in table.rows if r.thresholds == DEFAULTS)
    assert default.in_force
    assert default.approved == 2
    assert default.kappas == {"rita": pytest.approx(1.0), "vera": pytest.approx(0.0)}
    assert default.mean == pytest.approx(0.5)
    means = [r.mean for r in table.rows]
    defined = [m for m in means if m is not None]
    assert defined == sorted(defined, reverse=True)
    assert means[: len(defined)] == defined  # undefined ones after every defined one
    assert table.rows[0].mean >= default.mean

    # A seeker length of 4 approves c3 too: Rita [T F F T] vs [T F T T]:
    # p_o = 3/4, p_e = .5·.75 + .5·.25 = .5, κ = .5.
    looser = next(r for r in table.rows if r.thresholds == DEFAULTS | {"min_seeker_avg_words": 4.0})
    assert looser.kappas["rita"] == pytest.approx(0.5)


@pytest.mark.django_db
def test_two_reviewers_labelling_at_once_get_different_conversations(sampled) -> None:
    run, _ = sampled
    sample = CalibrationSample.objects.get(run=run)
    rita, vera = account(RITA), account(VERA)
    ritas = calibration.next_to_label(sample, rita)
    veras = calibration.next_to_label(sample, vera)
    assert ritas is not None and veras is not None
    assert ritas.pk != veras.pk
    # A reload shows Rita the conversation she holds.
    assert calibration.next_to_label(sample, rita).pk == ritas.pk
    # Vera cannot label what Rita holds.
    with pytest.raises(QualityError, match="expired"):
        calibration.record_label(sample, ritas.pk, vera, "approved")
    assert not CalibrationLabel.objects.exists()
    # An expired claim passes to the next reviewer who asks.
    CalibrationClaim.objects.filter(reviewer=rita).update(
        claimed_at=timezone.now() - timedelta(minutes=16)
    )
    calibration.record_label(sample, veras.pk, vera, "not_approved")
    assert calibration.next_to_label(sample, vera).pk == ritas.pk


@pytest.mark.django_db
def test_every_reviewer_labels_the_whole_sample_and_labels_stay_apart(sampled) -> None:
    run, conversations = sampled
    verdicts = {c.pk: T for c in conversations}
    _label_all(run, RITA, verdicts)
    _label_all(run, VERA, {pk: F for pk in verdicts})
    sample = CalibrationSample.objects.get(run=run)
    labels = calibration.labels_by_reviewer(sample)
    assert labels == {"rita": verdicts, "vera": {pk: F for pk in verdicts}}
    assert CalibrationLabel.objects.count() == 8
    assert not CalibrationClaim.objects.exists()
    # Labelling a conversation twice is refused, and changes nothing.
    rita = account(RITA)
    CalibrationClaim.objects.create(
        conversation=conversations[0], reviewer=rita, claimed_at=timezone.now()
    )
    with pytest.raises(QualityError, match="labelled this conversation already"):
        calibration.record_label(sample, conversations[0].pk, rita, "not_approved")
    assert CalibrationLabel.objects.get(conversation=conversations[0], reviewer=rita).approved
    assert CalibrationClaim.objects.filter(reviewer=rita).exists()  # rolled back with it


@pytest.mark.django_db
def test_the_label_page_shows_one_conversation_and_refuses_bad_input(
    sampled, rita_client: Client
) -> None:
    run, _ = sampled
    url = f"/quality/calibration/{run.name}/label/"
    page = rita_client.get(url)
    assert page.status_code == 200
    shown = page.context["d"]["conversation"]
    assert b"Do not approve" in page.content
    assert b"[Question]" in page.content  # the strategies are shown
    for bad in (
        {"conversation": shown.pk, "label": "maybe"},
        {"conversation": "x", "label": "approved"},
        {"conversation": 999999, "label": "approved"},
    ):
        refused = rita_client.post(url, bad)
        assert refused.status_code == 400
        assert refused.context["d"]["conversation"].pk == shown.pk
    assert not CalibrationLabel.objects.exists()
    saved = rita_client.post(url, {"conversation": shown.pk, "label": "not_approved"})
    assert saved.status_code == 302
    label = CalibrationLabel.objects.get()
    assert (label.conversation_id, label.reviewer.username, label.approved) == (
        shown.pk,
        "rita",
        False,
    )
    assert rita_client.get(url).context["d"]["conversation"].pk != shown.pk


@pytest.mark.django_db
def test_staff_only(sampled, otto_client: Client) -> None:
    run, _ = sampled
    for url in ("/quality/calibration/", f"/quality/calibration/{run.name}/"):
        assert otto_client.get(url).status_code == 302
    assert otto_client.post(f"/quality/calibration/{run.name}/activate/", DEFAULTS).status_code == (
        302
    )
    assert AutoApprovalRuleSet.objects.count() == 1


@pytest.mark.django_db
def test_making_a_row_active_saves_a_new_version_and_keeps_decisions(
    sampled, rita_client: Client
) -> None:
    run, (c1, c2, c3, c4) = sampled
    _label_all(run, RITA, {c1.pk: T, c2.pk: F, c3.pk: T, c4.pk: T})
    before = list(Decision.objects.order_by("pk").values_list("pk", "rule_set_version", "outcome"))
    statuses = dict(Conversation.objects.values_list("pk", "quality_status"))
    chosen = DEFAULTS | {"min_seeker_avg_words": 4.0}

    page = rita_client.post(f"/quality/calibration/{run.name}/activate/", chosen, follow=True)
    assert b"Rule set v2 is now in force" in page.content
    new = current_rule_set()
    assert new.version == 2
    assert calibration.thresholds_of(new) == chosen
    assert new.created_by.username == "rita"
    assert new.note == f"Calibration on run {run.name}: mean kappa 1.000"
    first = AutoApprovalRuleSet.objects.get(version=1)
    assert calibration.thresholds_of(first) == DEFAULTS  # the old version is untouched
    assert new.min_utterances == first.min_utterances  # everything else carried over
    # Nothing is judged again: decisions and statuses are as they were.
    assert list(
        Decision.objects.order_by("pk").values_list("pk", "rule_set_version", "outcome")
    ) == (before)
    assert dict(Conversation.objects.values_list("pk", "quality_status")) == statuses
    table = page.context["t"]
    assert table.rule_set_version == 2
    assert next(r for r in table.rows if r.in_force).thresholds == chosen

    # Thresholds outside the grid are refused and save nothing.
    bad = rita_client.post(
        f"/quality/calibration/{run.name}/activate/", chosen | {"min_empathy": "7"}, follow=True
    )
    assert b"min_empathy must be one of 2, 3, 4" in bad.content
    assert AutoApprovalRuleSet.objects.count() == 2


@pytest.mark.django_db
def test_activation_needs_the_csrf_token(sampled) -> None:
    run, _ = sampled
    client = Client(enforce_csrf_checks=True)
    client.force_login(account(RITA))
    refused = client.post(f"/quality/calibration/{run.name}/activate/", DEFAULTS)
    assert refused.status_code == 403
    assert AutoApprovalRuleSet.objects.count() == 1


# --------------------------------------------------------------------------- the command


@pytest.mark.django_db
def test_the_command_prints_the_table_as_json(sampled) -> None:
    run, (c1, c2, c3, c4) = sampled
    _label_all(run, RITA, {c1.pk: T, c2.pk: F, c3.pk: F, c4.pk: T})
    _label_all(run, VERA, {c1.pk: T, c2.pk: T, c3.pk: F, c4.pk: F})
    out = StringIO()
    call_command("calibrate_rules", "--run", run.name, "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) == {
        "run",
        "rule_set_version",
        "sampled",
        "grid",
        "reviewers",
        "inter_reviewer",
        "rows",
    }
    assert data["run"] == run.name
    assert data["reviewers"] == [
        {"username": "rita", "labels": 4},
        {"username": "vera", "labels": 4},
    ]
    assert data["inter_reviewer"] == [{"reviewers": ["rita", "vera"], "overlap": 4, "kappa": 0.0}]
    assert len(data["rows"]) == 3**6
    assert set(data["rows"][0]) == {"thresholds", "kappa", "mean_kappa", "approved", "in_force"}
    default = next(r for r in data["rows"] if r["thresholds"] == DEFAULTS)
    assert default == {
        "thresholds": DEFAULTS,
        "kappa": {"rita": 1.0, "vera": 0.0},
        "mean_kappa": 0.5,
        "approved": 2,
        "in_force": True,
    }
    means = [r["mean_kappa"] for r in data["rows"]]
    defined = [m for m in means if m is not None]
    assert means == defined + [None] * (len(means) - len(defined))

    markdown = StringIO()
    call_command("calibrate_rules", "--run", run.name, "--top", "3", stdout=markdown)
    lines = markdown.getvalue().splitlines()
    assert "- inter-reviewer kappa rita / vera: 0.000 over 4 conversations" in lines
    assert len([line for line in lines if line.startswith("| ")]) == 1 + 3


@pytest.mark.django_db
def test_the_command_names_an_unknown_run_and_says_when_nothing_is_labelled(sampled) -> None:
    run, _ = sampled
    with pytest.raises(CommandError, match="no collection run named 'nosuch'"):
        call_command("calibrate_rules", "--run", "nosuch")
    with pytest.raises(CommandError, match="has no calibration labels yet"):
        call_command("calibrate_rules", "--run", run.name, "--format", "json")


@pytest.mark.django_db
def test_staff_draw_the_sample_from_the_page(rita_client: Client) -> None:
    make_conversation()
    make_conversation(utterances=4)  # filtered: never sampled
    judge_pending()
    run = quality_run()
    index = rita_client.get("/quality/calibration/")
    assert f'href="/quality/calibration/{run.name}/"'.encode() in index.content
    url = f"/quality/calibration/{run.name}/"
    assert b'data-testid="draw"' in rita_client.get(url).content
    for bad in ({"size": "0", "seed": "1"}, {"size": "ten", "seed": "1"}):
        refused = rita_client.post(f"{url}draw/", bad, follow=True)
        assert b"sample size" in refused.content
    assert not CalibrationSample.objects.exists()
    drawn = rita_client.post(f"{url}draw/", {"size": "50", "seed": "3"}, follow=True)
    assert b"Drew 1 conversation (seed 3)" in drawn.content
    assert b'data-testid="no-labels"' in drawn.content
    assert rita_client.get("/quality/calibration/nosuch/").status_code == 404


@pytest.mark.django_db
def test_undefined_kappa_is_null_in_json_and_n_a_on_the_page(sampled, ada_client: Client) -> None:
    run, conversations = sampled
    _label_all(run, RITA, {c.pk: T for c in conversations})
    out = StringIO()
    call_command("calibrate_rules", "--run", run.name, "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())["rows"]
    # The loosest row approves all four, as Rita did: κ is 0/0.
    loosest = next(
        r
        for r in rows
        if r["thresholds"]["supporter_criteria_required"] == 2
        and r["thresholds"]["min_seeker_avg_words"] == 4.0
        and r["approved"] == 4
    )
    assert loosest["kappa"] == {"rita": None} and loosest["mean_kappa"] is None
    assert rows[-1]["mean_kappa"] is None
    page = ada_client.get(f"/quality/calibration/{run.name}/?all=1")
    assert page.content.count(b'data-testid="calibration-row"') == 3**6
    assert b"<td>n/a</td>" in page.content
    for model in ("calibrationlabel", "calibrationsample"):
        assert ada_client.get(f"/admin/quality/{model}/").status_code == 200
