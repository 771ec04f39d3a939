"""Annotation correction: assignment, the re-labeller's page, disagreement flags, kappa."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from quality.errors import QualityError
from quality.judging import judge_pending
from quality.models import Flag, Relabel, RelabelAssignment
from quality.relabelling import assign_relabelling
from quality.rule_sets import current_rule_set, save_rule_set_version
from quality.selectors import cohen_kappa
from tests.cast import ALICE, CAROL, DAVE, GUS, SAM, Actor, extra
from tests.crowd.factories import enter, rejoin
from tests.quality.factories import make_conversation, quality_run
from tests.tutorial.factories import trained_supporter, trainee

pytestmark = pytest.mark.django_db


def as_worker(worker: Worker) -> Client:
    """A browser of the worker, opened from their own entry link."""
    return rejoin(Client(), worker)


def relabellers_run() -> CollectionRun:
    """The re-labellers' own run: once qualified they wait there, so the conversations built
    in the quality run never pair a seeker with one of them."""
    return quality_run("relabellers")


def qualified(actor: Actor) -> Worker:
    return trained_supporter(actor, relabellers_run())


def imported_approved(**kwargs: Any) -> Conversation:
    """An approved conversation of imported data: two supporter lines, labelled Question."""
    return make_conversation(
        end_reason="imported",
        status="approved",
        utterances=4,
        seeker_words=[6, 6],
        supporter_words=[8, 8],
        **kwargs,
    )


@pytest.fixture
def approved() -> Conversation:
    return imported_approved()


def supporter_lines(conversation: Conversation) -> list[Utterance]:
    return list(
        Utterance.objects.filter(conversation=conversation, speaker="supporter").order_by(
            "position"
        )
    )


def relabel_through_the_page(worker: Worker, conversation: Conversation, labels: list[str]) -> int:
    client = as_worker(worker)
    assignment = RelabelAssignment.objects.get(worker=worker, conversation=conversation)
    data = {f"u-{u.pk}": label for u, label in zip(supporter_lines(conversation), labels)}
    return client.post(f"/quality/relabel/{assignment.pk}/", data).status_code


def test_staff_assign_approved_conversations_to_qualified_supporters(
    approved: Conversation, rita_client: Client
) -> None:
    dave = qualified(DAVE)
    response = rita_client.post(
        "/quality/relabelling/assign/", {"conversations": [approved.pk], "workers": [dave.pk]}
    )
    assert response.status_code == 302
    assignment = RelabelAssignment.objects.get()
    assert (assignment.conversation, assignment.worker, assignment.assigned_by.username) == (
        approved,
        dave,
        "rita",
    )
    # Assigning twice creates nothing new.
    assert assign_relabelling([approved], [dave]) == 0


def test_it_refuses_unqualified_workers_and_unapproved_conversations(
    approved: Conversation,
) -> None:
    sam = trainee(SAM, relabellers_run())
    alice = enter(ALICE, relabellers_run())
    dave = qualified(DAVE)
    pending = make_conversation()
    with pytest.raises(QualityError, match="not a qualified supporter"):
        assign_relabelling([approved], [sam])
    with pytest.raises(QualityError, match="not a qualified supporter"):
        assign_relabelling([approved], [alice])
    with pytest.raises(QualityError, match="is not approved"):
        assign_relabelling([pending], [dave])
    assert not RelabelAssignment.objects.exists()


def test_a_supporter_never_relabels_their_own_conversation() -> None:
    # Carol and Dave's chat, approved by the rules.
    theirs = make_conversation(seeker=CAROL, supporter=DAVE)
    judge_pending()
    theirs.refresh_from_db()
    assert theirs.quality_status == "approved"
    assert theirs.supporter is not None
    assert assign_relabelling([theirs], [theirs.supporter]) == 0


def test_the_relabel_page_shows_the_strategy_picker_and_hides_the_original_label(
    approved: Conversation,
) -> None:
    dave = qualified(DAVE)
    assign_relabelling([approved], [dave])
    client = as_worker(dave)
    listing = client.get("/quality/relabel/")
    assert listing.status_code == 200
    assignment = RelabelAssignment.objects.get()
    page = client.get(f"/quality/relabel/{assignment.pk}/").content.decode()
    for strategy in vocabulary.STRATEGY_NAMES:
        assert f'<option value="{strategy}"' in page
    assert page.count("<select") == 2
    assert "[Question]" not in page


def test_outsiders_cannot_relabel(approved: Conversation) -> None:
    dave = qualified(DAVE)
    gus = qualified(GUS)  # qualified too, but not given this conversation
    alice = enter(ALICE, relabellers_run())
    assign_relabelling([approved], [dave])
    assignment = RelabelAssignment.objects.get()
    assert as_worker(alice).get("/quality/relabel/").status_code == 403
    assert Client().get(f"/quality/relabel/{assignment.pk}/").status_code == 403
    assert as_worker(gus).get(f"/quality/relabel/{assignment.pk}/").status_code == 404
    assert relabel_through_the_page(dave, approved, ["Others", "Others"]) == 302
    assert Relabel.objects.count() == 2


def test_it_requires_a_label_for_every_supporter_message(approved: Conversation) -> None:
    dave = qualified(DAVE)
    assign_relabelling([approved], [dave])
    assert relabel_through_the_page(dave, approved, ["Others"]) == 400
    assert relabel_through_the_page(dave, approved, ["Others", "Questions"]) == 400
    assert not Relabel.objects.exists()
    assert RelabelAssignment.objects.get().completed_at is None


def test_it_refuses_a_second_submission(approved: Conversation) -> None:
    dave = qualified(DAVE)
    assign_relabelling([approved], [dave])
    assert relabel_through_the_page(dave, approved, ["Question", "Question"]) == 302
    assert relabel_through_the_page(dave, approved, ["Others", "Others"]) == 409
    assert sorted(Relabel.objects.values_list("strategy", flat=True)) == ["Question", "Question"]


def four_relabellers(conversation: Conversation) -> list[Worker]:
    workers = [qualified(extra("supporter", n)) for n in range(1, 5)]
    assign_relabelling([conversation], workers)
    return workers


def test_it_flags_an_utterance_when_more_than_75_percent_disagree(approved: Conversation) -> None:
    w, x, y, z = four_relabellers(approved)
    first, second = supporter_lines(approved)  # both originally "Question"
    # First line: 4 of 4 disagree (100%). Second: 3 of 4 disagree (75%, not more).
    relabel_through_the_page(w, approved, ["Information", "Others"])
    relabel_through_the_page(x, approved, ["Information", "Others"])
    relabel_through_the_page(y, approved, ["Others", "Others"])
    approved.refresh_from_db()
    # One re-labeller is enough by default, so the first submission already flagged both lines
    # at 100%; the flags stay open and are not duplicated.
    assert Flag.objects.filter(kind="relabel_disagreement").count() == 2
    relabel_through_the_page(z, approved, ["Self-disclosure", "Question"])
    assert approved.quality_status == "review"
    flagged = set(Flag.objects.values_list("utterance_id", flat=True))
    assert flagged == {first.pk, second.pk}


def test_with_a_minimum_of_four_relabellers_exactly_75_percent_is_not_flagged(
    approved: Conversation,
) -> None:
    rules = current_rule_set()
    rules.relabel_min_labellers = 4
    save_rule_set_version(rules)
    w, x, y, z = four_relabellers(approved)
    first, _second = supporter_lines(approved)
    for worker, labels in [
        (w, ["Information", "Others"]),
        (x, ["Information", "Others"]),
        (y, ["Others", "Others"]),
    ]:
        relabel_through_the_page(worker, approved, labels)
    assert not Flag.objects.exists()  # only three re-labellers so far
    relabel_through_the_page(z, approved, ["Self-disclosure", "Question"])
    flags = list(Flag.objects.all())
    assert [f.utterance_id for f in flags] == [first.pk]  # 4/4 disagree; the second 3/4
    assert flags[0].detail == "4 of 4 re-labellers disagree with 'Question'"
    approved.refresh_from_db()
    assert approved.quality_status == "review"


def test_the_agreement_page_shows_kappa_per_strategy(rita_client: Client) -> None:
    approved = imported_approved(strategy=["Question", "Others"])
    w, x, *_ = four_relabellers(approved)
    relabel_through_the_page(w, approved, ["Question", "Others"])
    relabel_through_the_page(x, approved, ["Question", "Question"])
    response = rita_client.get("/quality/relabelling/agreement/")
    assert response.status_code == 200
    data = response.context["a"]
    # Pairs (original, re-label): QQ, OO, QQ, OQ -> observed 0.75, chance 0.5, kappa 0.5.
    assert data["pairs"] == 4
    assert data["overall_kappa"] == pytest.approx(0.5)
    rows = {r["code"]: r for r in data["rows"]}
    assert (rows["Qu"]["original"], rows["Qu"]["relabelled"], rows["Qu"]["both"]) == (2, 3, 2)
    assert rows["Qu"]["kappa"] == pytest.approx(0.5)
    assert rows["Ot"]["kappa"] == pytest.approx(0.5)
    assert rows["In"]["kappa"] is None  # never used by anyone: undefined
    assert 'data-strategy="Qu"' in response.content.decode()
    assert Client().get("/quality/relabelling/agreement/").status_code == 302


def test_cohen_kappa_matches_a_worked_example() -> None:
    # 50 items: both yes 20, a-yes b-no 5, a-no b-yes 10, both no 15 -> kappa 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([]) is None
