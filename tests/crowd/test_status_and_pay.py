"""Status codes and pay: every way a task ends, for both roles (docs/quality.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from chat import matching
from crowd.models import CollectionRun
from crowd.services import TaskOutcome, finish_worker, pay_for, record_outcome
from tests.cast import ALICE, ERIN, FRANK, GUS
from tests.chat.factories import Pair, end, make_pair
from tests.crowd.factories import enter, quick_run
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import failed_supporter, trained_supporter

pytestmark = pytest.mark.django_db

SEEKER, SUPPORTER = "seeker", "supporter"


@pytest.mark.parametrize(
    ("outcome", "role", "expected"),
    [
        (TaskOutcome.FAILED_TRAINING, SUPPORTER, "2.00"),
        (TaskOutcome.LEFT_EARLY, SEEKER, "2.00"),
        (TaskOutcome.LEFT_EARLY, SUPPORTER, "2.00"),
        (TaskOutcome.RELEASED_FROM_WAITING, SEEKER, "3.00"),  # base x bonus, either role
        (TaskOutcome.RELEASED_FROM_WAITING, SUPPORTER, "3.00"),
        (TaskOutcome.PARTNER_LEFT, SEEKER, "3.00"),  # base x bonus
        (TaskOutcome.PARTNER_LEFT, SUPPORTER, "30.00"),  # base x 10*bonus
        (TaskOutcome.PARTNER_UNRESPONSIVE, SEEKER, "3.00"),
        (TaskOutcome.PARTNER_UNRESPONSIVE, SUPPORTER, "30.00"),
        (TaskOutcome.FINISHED, SEEKER, "30.00"),
        (TaskOutcome.FINISHED, SUPPORTER, "30.00"),
    ],
)
def test_it_pays_base_times_the_multiplier_of_the_outcome(
    outcome: TaskOutcome, role: str, expected: str
) -> None:
    run = quick_run(base_pay=Decimal("2.00"), bonus=Decimal("1.50"))
    assert pay_for(run, role, outcome) == Decimal(expected)


def test_it_refuses_a_failed_training_outcome_for_a_seeker() -> None:
    run = quick_run()
    with pytest.raises(ValueError, match="Only supporters"):
        pay_for(run, SEEKER, TaskOutcome.FAILED_TRAINING)


def test_under_the_default_pay_a_worker_failed_by_a_partner_earns_more_than_a_leaver() -> None:
    run = quick_run()
    left = pay_for(run, SEEKER, TaskOutcome.LEFT_EARLY)
    for outcome in (
        TaskOutcome.RELEASED_FROM_WAITING,
        TaskOutcome.PARTNER_LEFT,
        TaskOutcome.PARTNER_UNRESPONSIVE,
    ):
        assert pay_for(run, SEEKER, outcome) > left, outcome


def _pair(run: CollectionRun, alice_client: Client, bob_client: Client) -> Pair:
    """Alice and Bob arrive in their browsers and are matched."""
    return make_pair(run, seeker_client=alice_client, supporter_client=bob_client)


@pytest.mark.parametrize(
    ("reason", "ender", "seeker_code", "supporter_code", "seeker_stage", "supporter_stage"),
    [
        ("finished", SEEKER, "03", "03", "post_survey", "post_survey"),
        ("leave", SEEKER, "01", "02", "done", "post_survey"),
        ("leave", SUPPORTER, "02", "01", "post_survey", "done"),
        ("partner_unresponsive", SEEKER, "02", "01", "post_survey", "done"),
        ("partner_unresponsive", SUPPORTER, "01", "02", "done", "post_survey"),
    ],
)
def test_it_gives_each_ending_its_code_and_pay(
    alice_client: Client,
    bob_client: Client,
    reason: str,
    ender: str,
    seeker_code: str,
    supporter_code: str,
    seeker_stage: str,
    supporter_stage: str,
) -> None:
    run = quick_run(base_pay=Decimal("1.00"), bonus=Decimal("0.50"))
    pair = _pair(run, alice_client, bob_client)
    seeker, supporter = pair.seeker, pair.supporter

    end(pair, seeker if ender == SEEKER else supporter, reason)

    seeker.refresh_from_db()
    supporter.refresh_from_db()
    assert (seeker.status_code, supporter.status_code) == (seeker_code, supporter_code)
    assert (seeker.stage, supporter.stage) == (seeker_stage, supporter_stage)
    assert seeker.pay_total == pay_for(run, SEEKER, TaskOutcome(seeker.outcome))
    assert supporter.pay_total == pay_for(run, SUPPORTER, TaskOutcome(supporter.outcome))
    ender_worker, partner = (seeker, supporter) if ender == SEEKER else (supporter, seeker)
    if reason == "leave":  # the one left behind is told their partner left
        assert (ender_worker.outcome, partner.outcome) == ("left_early", "partner_left")
    if reason == "partner_unresponsive":
        assert (ender_worker.outcome, partner.outcome) == ("partner_unresponsive", "left_early")
    assert seeker.pay_base == supporter.pay_base == Decimal("1.00")
    assert seeker.finished_at is not None


def test_it_pays_a_worker_released_from_the_waiting_room_as_02(
    erin_client: Client, gus_client: Client
) -> None:
    run = quick_run(max_wait_seconds=0, base_pay=Decimal("1.00"), bonus=Decimal("2.00"))
    erin = waiting_seeker(ERIN, run, client=erin_client)
    # Nobody to match either of them with: Gus waits in an otherwise empty run of his own.
    other_run = quick_run("other", max_wait_seconds=0)
    gus = trained_supporter(GUS, other_run, client=gus_client)

    assert matching.release_from_waiting(erin)
    assert matching.release_from_waiting(gus)

    erin.refresh_from_db()
    gus.refresh_from_db()
    assert (erin.status_code, erin.stage, erin.pay_total) == ("02", "done", Decimal("2.00"))
    assert (gus.status_code, gus.stage) == ("02", "done")
    # The 10·bonus rate is for supporting; Gus waited: base x bonus, like Erin.
    assert (gus.outcome, gus.pay_total) == ("released_from_waiting", Decimal("1.50"))


def test_it_records_a_failed_training_as_00(frank_client: Client) -> None:
    run = quick_run(base_pay=Decimal("0.80"))

    frank = failed_supporter(FRANK, run, client=frank_client)

    assert (frank.status_code, frank.stage, frank.pay_total) == ("00", "done", Decimal("0.80"))


def test_it_keeps_the_first_outcome(alice_client: Client) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)
    record_outcome(alice, TaskOutcome.LEFT_EARLY)

    alice = record_outcome(alice, TaskOutcome.FINISHED)

    assert alice.status_code == "01"
    assert alice.pay_total == run.base_pay


def test_it_never_moves_a_finished_worker_back(alice_client: Client) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)
    finish_worker(alice, TaskOutcome.FINISHED, post_survey=False)

    alice = finish_worker(alice, TaskOutcome.LEFT_EARLY, post_survey=True)

    assert (alice.stage, alice.status_code) == ("done", "03")


def test_it_pays_from_the_outcome_not_from_what_the_browser_says(alice_client: Client) -> None:
    run = quick_run()
    alice = enter(ALICE, run, client=alice_client)
    finish_worker(alice, TaskOutcome.LEFT_EARLY, post_survey=False)

    alice_client.post("/done/", {"status_code": "03", "pay_total": "100"})
    alice_client.get("/done/?status_code=03")

    alice.refresh_from_db()
    assert (alice.status_code, alice.pay_total) == ("01", run.base_pay)
