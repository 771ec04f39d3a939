"""Status codes and pay: every way a task ends, for both roles (SPEC section 6)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chat import matching
from crowd.models import StatusCode, Worker
from crowd.services import TaskOutcome, finish_worker, pay_for, record_outcome
from tests.surveys.journey import arrive, end, fill_pre_chat, make_run, seeker_and_supporter

pytestmark = pytest.mark.django_db

SEEKER, SUPPORTER = "seeker", "supporter"


@pytest.mark.parametrize(
    ("status", "role", "expected"),
    [
        (StatusCode.FAILED_TRAINING, SUPPORTER, "2.00"),
        (StatusCode.LEFT_EARLY, SEEKER, "2.00"),
        (StatusCode.LEFT_EARLY, SUPPORTER, "2.00"),
        (StatusCode.PARTNER_UNRESPONSIVE, SEEKER, "3.00"),  # base x bonus
        (StatusCode.PARTNER_UNRESPONSIVE, SUPPORTER, "30.00"),  # base x 10*bonus
        (StatusCode.FINISHED, SEEKER, "30.00"),
        (StatusCode.FINISHED, SUPPORTER, "30.00"),
    ],
)
def test_it_pays_base_times_the_multiplier_of_the_status(
    status: StatusCode, role: str, expected: str
) -> None:
    run = make_run(base_pay=Decimal("2.00"), bonus=Decimal("1.50"))
    assert pay_for(run, role, status) == Decimal(expected)


def test_it_refuses_a_failed_training_status_for_a_seeker() -> None:
    run = make_run()
    with pytest.raises(ValueError, match="Only supporters"):
        pay_for(run, SEEKER, StatusCode.FAILED_TRAINING)


def _pair(run, clients):  # type: ignore[no-untyped-def]
    conversation = seeker_and_supporter(run, clients[0], clients[1], "alice", "bob")
    seeker = Worker.objects.get(pk=conversation.seeker_id)
    supporter = Worker.objects.get(pk=conversation.supporter_id)
    return conversation, seeker, supporter


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
    run = make_run(base_pay=Decimal("1.00"), bonus=Decimal("0.50"))
    conversation, seeker, supporter = _pair(run, (alice_client, bob_client))

    end(conversation, seeker if ender == SEEKER else supporter, reason)

    seeker.refresh_from_db()
    supporter.refresh_from_db()
    assert (seeker.status_code, supporter.status_code) == (seeker_code, supporter_code)
    assert (seeker.stage, supporter.stage) == (seeker_stage, supporter_stage)
    assert seeker.pay_total == pay_for(run, SEEKER, StatusCode(seeker_code))
    assert supporter.pay_total == pay_for(run, SUPPORTER, StatusCode(supporter_code))
    assert seeker.pay_base == supporter.pay_base == Decimal("1.00")
    assert seeker.finished_at is not None


def test_it_pays_a_worker_released_from_the_waiting_room_as_02(
    alice_client: Client, bob_client: Client
) -> None:
    run = make_run(max_wait_seconds=0, base_pay=Decimal("1.00"), bonus=Decimal("2.00"))
    alice = arrive(alice_client, run, SEEKER, "alice")
    fill_pre_chat(alice_client)
    bob = arrive(bob_client, run, SUPPORTER, "bob")
    Worker.objects.filter(pk=bob.pk).update(qualification=Worker.Qualification.QUALIFIED)
    # Nobody to match either of them with: Bob waits in an otherwise empty run of his own.
    other_run = make_run("other", max_wait_seconds=0)
    Worker.objects.filter(pk=bob.pk).update(
        run=other_run, stage="waiting", waiting_since=timezone.now()
    )

    assert matching.release_from_waiting(Worker.objects.get(pk=alice.pk))
    assert matching.release_from_waiting(Worker.objects.get(pk=bob.pk))

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.status_code, alice.stage, alice.pay_total) == ("02", "done", Decimal("2.00"))
    assert (bob.status_code, bob.stage) == ("02", "done")
    assert bob.pay_total == pay_for(other_run, SUPPORTER, StatusCode.PARTNER_UNRESPONSIVE)


def test_it_records_a_failed_training_as_00(bob_client: Client) -> None:
    run = make_run(base_pay=Decimal("0.80"))
    bob = arrive(bob_client, run, SUPPORTER, "bob")

    bob = finish_worker(bob, TaskOutcome.FAILED_TRAINING, post_survey=False)

    assert (bob.status_code, bob.stage, bob.pay_total) == ("00", "done", Decimal("0.80"))


def test_it_keeps_the_first_outcome(alice_client: Client) -> None:
    run = make_run()
    alice = arrive(alice_client, run, SEEKER, "alice")
    record_outcome(alice, TaskOutcome.LEFT_EARLY)

    alice = record_outcome(alice, TaskOutcome.FINISHED)

    assert alice.status_code == "01"
    assert alice.pay_total == run.base_pay


def test_it_never_moves_a_finished_worker_back(alice_client: Client) -> None:
    run = make_run()
    alice = arrive(alice_client, run, SEEKER, "alice")
    finish_worker(alice, TaskOutcome.FINISHED, post_survey=False)

    alice = finish_worker(alice, TaskOutcome.LEFT_EARLY, post_survey=True)

    assert (alice.stage, alice.status_code) == ("done", "03")


def test_it_pays_from_the_outcome_not_from_what_the_browser_says(alice_client: Client) -> None:
    run = make_run()
    alice = arrive(alice_client, run, SEEKER, "alice")
    finish_worker(alice, TaskOutcome.LEFT_EARLY, post_survey=False)

    alice_client.post("/done/", {"status_code": "03", "pay_total": "100"})
    alice_client.get("/done/?status_code=03")

    alice.refresh_from_db()
    assert (alice.status_code, alice.pay_total) == ("01", run.base_pay)
