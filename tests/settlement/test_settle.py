"""Settling a run on Prolific and MTurk through the ledger, against local servers that speak
their APIs: each worker approved once and paid the pay table's bonus once, whether the run is
settled twice, by two staff at once, after a 5xx, after the connection was cut right after a
pay call, or after the process died between two calls."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from crowd import services
from crowd.models import CollectionRun, TaskOutcome, Worker
from settlement.models import LedgerEntry, Settlement
from settlement.services import settle
from staff.models import AuditEvent
from tests.cast import Actor
from tests.crowd.factories import enter, make_run
from tests.providers.mturk_server import MTurkServer
from tests.providers.prolific_server import ProlificServer

pytestmark = pytest.mark.django_db
STUDY = "study-1"  # what the test entry links carry as Prolific's STUDY_ID
HIT = "H1"

REJECTION = (
    "Thank you for starting this study. Your submission is rejected because the chat was "
    "left before it could be finished, as the study's instructions explain."
)


@dataclass
class Sites:
    prolific: ProlificServer
    mturk: MTurkServer


@pytest.fixture
def sites(connected: tuple[ProlificServer, MTurkServer]) -> Sites:
    prolific_server, mturk_server = connected
    prolific_server.add_study(STUDY)
    mturk_server.add_hit(HIT)
    return Sites(prolific_server, mturk_server)


def _worker(
    sites: Sites, run: CollectionRun, name: str, role: str, outcome: TaskOutcome, *, mturk: bool
) -> Worker:
    """A worker who entered from the site's link and ended with `outcome`, with the
    submission (assignment) the site holds for them."""
    worker = services.record_outcome(enter(Actor(name, role, ""), run, mturk=mturk), outcome)
    if mturk:
        sites.mturk.add_assignment(HIT, worker.assignment_id, worker.external_id)
    else:
        submission = sites.prolific.add_submission(STUDY, worker.external_id)
        Worker.objects.filter(pk=worker.pk).update(assignment_id=submission)
    return Worker.objects.get(pk=worker.pk)


def _run(**settings: Any) -> CollectionRun:
    return make_run(name="pilot", base_pay=Decimal("2.00"), bonus=Decimal("1.50"), **settings)


def _bonus(worker: Worker) -> Decimal:
    assert worker.pay_total is not None and worker.pay_base is not None
    return worker.pay_total - worker.pay_base


def _approved(sites: Sites) -> list[str]:
    prolific = [r.path for r in sites.prolific.requests if r.path.endswith("/transition/")]
    return prolific + [b["AssignmentId"] for b in sites.mturk.calls("ApproveAssignment")]


def test_each_worker_is_approved_once_and_paid_the_pay_table_s_bonus(sites: Sites) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.FINISHED, mturk=True)
    carol = _worker(sites, run, "carol", "seeker", TaskOutcome.PARTNER_UNRESPONSIVE, mturk=True)
    dave = _worker(sites, run, "dave", "supporter", TaskOutcome.LEFT_EARLY, mturk=False)
    report = settle(run)

    assert sites.prolific.status(alice.assignment_id) == "APPROVED"
    assert sites.prolific.status(dave.assignment_id) == "APPROVED"
    assert sites.mturk.status(bob.assignment_id) == "Approved"
    assert sites.mturk.status(carol.assignment_id) == "Approved"
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]
    assert sites.prolific.bonuses_paid(dave.external_id) == []  # 01 earns the base only
    assert sites.mturk.bonuses(bob.external_id) == [_bonus(bob)]
    assert sites.mturk.bonuses(carol.external_id) == [_bonus(carol)]
    assert _bonus(alice) > 0 and _bonus(carol) > 0
    assert report.counts == {"confirmed": 7}
    assert report.bonus_total == _bonus(alice) + _bonus(bob) + _bonus(carol)
    assert set(LedgerEntry.objects.values_list("state", flat=True)) == {"confirmed"}
    paid = Worker.objects.filter(paid_at__isnull=False)
    assert set(paid.values_list("pk", flat=True)) == {alice.pk, bob.pk, carol.pk}
    [event] = AuditEvent.objects.filter(action="settle")
    assert event.run == "pilot" and event.detail["counts"] == {"confirmed": 7}
    assert Settlement.objects.get().finished_at is not None


def test_settling_again_sends_nothing_and_pays_nothing(sites: Sites) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.FINISHED, mturk=True)
    settle(run)
    calls = len(sites.prolific.requests) + len(sites.mturk.requests)
    again = settle(run)
    assert again.counts == {} and again.rows == []
    assert len(sites.prolific.requests) + len(sites.mturk.requests) == calls
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]
    assert sites.mturk.bonuses(bob.external_id) == [_bonus(bob)]
    assert Settlement.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_staff_settling_at_once_pay_each_worker_once(sites: Sites) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once: the PostgreSQL pass runs this")
    run = _run()
    workers = [
        _worker(sites, run, f"w{n}", "seeker", TaskOutcome.FINISHED, mturk=bool(n % 2))
        for n in range(6)
    ]
    sites.prolific.hang_next("submissions/bonus-payments/", 0.3)  # overlap the two
    errors: list[BaseException] = []

    def one() -> None:
        try:
            settle(CollectionRun.objects.get(pk=run.pk))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    for worker in workers:
        paid = (sites.mturk.bonuses if worker.provider == "mturk" else sites.prolific.bonuses_paid)(
            worker.external_id
        )
        assert paid == [_bonus(worker)], worker.external_id
    assert LedgerEntry.objects.count() == 12
    assert set(LedgerEntry.objects.values_list("state", flat=True)) == {"confirmed"}


def test_5xx_from_mturk_is_retried_and_the_bonus_paid_once(sites: Sites) -> None:
    run = _run()
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.FINISHED, mturk=True)
    sites.mturk.fail("SendBonus", 2)
    assert settle(run).counts == {"confirmed": 2}
    assert len(sites.mturk.calls("SendBonus")) == 3
    assert sites.mturk.bonuses(bob.external_id) == [_bonus(bob)]


def _pay_path(sites: Sites, workers: int) -> str:
    """The pay call of the first bulk bonus, made after `workers` submissions were added."""
    return f"bulk-bonus-payments/bulk{workers + 1:04d}/pay/"


def test_a_5xx_on_prolific_s_pay_call_is_read_back_before_paying_again(sites: Sites) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    sites.prolific.fail_next(_pay_path(sites, 1), 1, 500)
    first = settle(run)
    assert first.counts == {"confirmed": 1, "uncertain": 1}
    entry = LedgerEntry.objects.get(kind="bonus")
    assert entry.state == "sent" and entry.external_id == "bulk0002"
    assert "no answer from the site" in entry.error
    assert settle(run).counts == {"in progress elsewhere": 1}  # within its lease
    LedgerEntry.objects.filter(pk=entry.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    assert settle(run).counts == {"confirmed": 1}
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]
    assert len(sites.prolific.calls("POST", "submissions/bonus-payments/")) == 1  # one payment


def test_a_connection_cut_right_after_the_pay_call_is_reconciled_and_paid_once(
    sites: Sites,
) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.FINISHED, mturk=True)
    sites.prolific.cut_after_next(_pay_path(sites, 1))
    sites.mturk.cut_after("SendBonus")
    report = settle(run)
    assert report.counts == {"confirmed": 4}  # read back at once: both were paid
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]
    assert sites.mturk.bonuses(bob.external_id) == [_bonus(bob)]
    settle(run)
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]


def test_a_process_killed_between_two_calls_pays_once(sites: Sites) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.FINISHED, mturk=True)
    # A settlement that died: every row written and claimed, both bonuses actually paid on
    # the sites (Prolific's with its payment's id recorded), no answer recorded.
    settle(run, dry_run=True)
    from settlement.services import _write_ledger, default_site, plan

    _write_ledger(run, plan(run), None, "command")
    long_ago = timezone.now() - timedelta(hours=1)
    LedgerEntry.objects.update(state="sent", sent_at=long_ago)
    prolific = default_site("prolific", run)
    created = prolific.create_bonus(STUDY, _site_bonus(alice))  # type: ignore[attr-defined]
    prolific.pay_created_bonus(created)  # type: ignore[attr-defined]
    LedgerEntry.objects.filter(worker=alice, kind="bonus").update(external_id=created)
    mturk = default_site("mturk", run)
    key = LedgerEntry.objects.get(worker=bob, kind="bonus").key
    mturk.pay_bonus(HIT, _site_bonus(bob), key=key)

    report = settle(run)
    assert report.counts == {"confirmed": 4}
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]
    assert sites.mturk.bonuses(bob.external_id) == [_bonus(bob)]


def _site_bonus(worker: Worker) -> Any:
    from crowd.providers.base import Bonus

    return Bonus(worker.assignment_id, worker.external_id, _bonus(worker))


def test_the_policy_rejects_but_never_a_worker_let_down_by_the_partner(sites: Sites) -> None:
    policy = {"01": {"action": "reject"}, "02": {"action": "reject"}, "03": {"bonus": "0.40"}}
    run = _run(settlement_policy=policy, rejection_message=REJECTION, rejection_category="OTHER")
    left = _worker(sites, run, "dave", "supporter", TaskOutcome.LEFT_EARLY, mturk=False)
    let_down = _worker(sites, run, "carol", "seeker", TaskOutcome.PARTNER_LEFT, mturk=True)
    done = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    settle(run)
    assert sites.prolific.status(left.assignment_id) == "REJECTED"
    [transition] = [
        r.body
        for r in sites.prolific.requests
        if r.path == f"submissions/{left.assignment_id}/transition/"
    ]
    assert transition == {
        "action": "REJECT",
        "message": REJECTION,
        "rejection_category": "OTHER",
    }
    assert sites.mturk.status(let_down.assignment_id) == "Approved"
    assert sites.mturk.bonuses(let_down.external_id) == [_bonus(let_down)]
    assert sites.prolific.bonuses_paid(done.external_id) == [Decimal("0.40")]


def test_a_dry_run_calls_no_site_and_says_what_it_would_do(sites: Sites) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    report = settle(run, dry_run=True)
    assert report.counts == {"would approve": 1, "would bonus": 1}
    assert report.bonus_total == _bonus(alice)
    assert sites.prolific.requests == [] and not LedgerEntry.objects.exists()


def test_the_command_prints_what_it_did_and_refuses_a_demo_run(sites: Sites) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    other = services.record_outcome(
        enter(Actor("otto-site", "seeker", ""), run, consent=True), TaskOutcome.FINISHED
    )
    Worker.objects.filter(pk=other.pk).update(provider="other")
    out = StringIO()
    call_command("settle_run", "--run", "pilot", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Would settle run 'pilot':" in text and f"bonuses to pay: {_bonus(alice)}" in text
    assert f"worker {other.pk}: skipped, came from other: pay them yourself" in text
    out = StringIO()
    call_command("settle_run", "--run", "pilot", "--format", "json", stdout=out)
    assert '"confirmed": 2' in out.getvalue()
    make_run(name="trial", is_demo=True)
    with pytest.raises(CommandError, match="trial is a demo run"):
        call_command("settle_run", "--run", "trial")
    with pytest.raises(CommandError, match="no collection run is named 'ghost'"):
        call_command("settle_run", "--run", "ghost")


def test_a_refusal_by_the_site_fails_that_row_and_the_command(sites: Sites) -> None:
    run = _run()
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.FINISHED, mturk=True)
    del sites.mturk.assignments[bob.assignment_id]  # the site knows no such assignment
    with pytest.raises(CommandError, match="refused by the site"):
        call_command("settle_run", "--run", "pilot", stdout=StringIO())
    failed = LedgerEntry.objects.filter(state="failed")
    assert failed.count() == 2 and all(e.error for e in failed)
    assert "test-secret" not in " ".join(e.error for e in failed)


def test_the_ledger_is_written_as_a_csv_without_crowd_site_ids(sites: Sites, tmp_path: Any) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    bob = _worker(sites, run, "bob", "supporter", TaskOutcome.LEFT_EARLY, mturk=True)
    settle(run)
    output = tmp_path / "ledger.csv"
    call_command("export_ledger", "--run", "pilot", "--output", str(output), stdout=StringIO())
    lines = output.read_text().splitlines()
    assert lines[0].startswith("key,worker_id,provider,kind,amount,currency,state")
    rows = [line.split(",") for line in lines[1:]]
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        (str(alice.pk), "prolific", "approve", "", "confirmed"),
        (str(alice.pk), "prolific", "bonus", str(_bonus(alice)), "confirmed"),
        (str(bob.pk), "mturk", "approve", "", "confirmed"),
    ]
    text = output.read_text()
    assert alice.external_id not in text and bob.external_id not in text
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_ledger", "--run", "pilot", "--output", str(tmp_path / "no" / "x.csv"))


def test_simulated_workers_are_skipped_unless_settlement_is_told_to_include_them(
    sites: Sites,
) -> None:
    run = _run()
    alice = _worker(sites, run, "alice", "seeker", TaskOutcome.FINISHED, mturk=False)
    sim = _worker(sites, run, "sim-abc-seeker-1", "seeker", TaskOutcome.FINISHED, mturk=True)
    Worker.objects.filter(pk=sim.pk).update(simulated=True)  # entered with a rehearsal token
    report = settle(run)
    assert (sim.pk, "simulated (a rehearsal): see --include-simulated") in report.skipped
    assert sites.mturk.calls("ApproveAssignment") == []
    assert sites.mturk.bonuses(sim.external_id) == []
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]
    assert not LedgerEntry.objects.filter(worker=sim).exists()

    out = StringIO()
    call_command("settle_run", "--run", "pilot", "--include-simulated", stdout=out)
    assert sites.mturk.status(sim.assignment_id) == "Approved"
    assert sites.mturk.bonuses(sim.external_id) == [_bonus(sim)]
    assert sites.prolific.bonuses_paid(alice.external_id) == [_bonus(alice)]  # still once
