"""The payment CSV: each worker paid once, --all re-exports, site layouts, clear errors."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from crowd.models import CollectionRun, Worker
from crowd.privacy import delete_personal_data
from crowd.services import TaskOutcome, finish_worker
from tests.cast import ALICE, BOB, CAROL, Actor
from tests.crowd.factories import enter, quick_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run() -> CollectionRun:
    return quick_run(base_pay=Decimal("1.00"), bonus=Decimal("1.50"))


def _finished(
    client: Client, run: CollectionRun, actor: Actor, outcome: TaskOutcome, *, mturk: bool = False
) -> Worker:
    """The worker arrives and their task ends with `outcome`, recorded by finish_worker: the
    crowd service every ending calls (a chat's end, the quiz's last attempt, a release)."""
    worker = enter(actor, run, client=client, mturk=mturk)
    return finish_worker(worker, outcome, post_survey=False)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_it_writes_one_row_per_finished_worker_and_marks_them_paid(
    alice_client: Client,
    bob_client: Client,
    carol_client: Client,
    run: CollectionRun,
    tmp_path: Path,
) -> None:
    alice = _finished(alice_client, run, ALICE, TaskOutcome.PARTNER_UNRESPONSIVE)
    bob = _finished(bob_client, run, BOB, TaskOutcome.FINISHED)
    enter(CAROL, run, client=carol_client)  # still on her way: nothing to pay yet
    output = tmp_path / "payments.csv"

    call_command("export_payments", "--run", run.name, "--output", str(output))

    rows = _read(output)
    assert [r["external_id"] for r in rows] == ["alice", "bob"]
    assert rows[0] == {
        "worker_id": str(alice.pk),
        "external_id": "alice",
        "provider": "prolific",
        "study_id": "study-1",
        "assignment_id": "s-alice",
        "role": "seeker",
        "status_code": "02",
        "base": "1.00",
        "bonus": "0.50",
        "total": "1.50",
        "currency": "GBP",
        "finished_at": rows[0]["finished_at"],
    }
    assert (rows[1]["status_code"], rows[1]["base"], rows[1]["bonus"], rows[1]["total"]) == (
        "03",
        "1.00",
        "14.00",
        "15.00",
    )
    assert Worker.objects.filter(paid_at__isnull=False).count() == 2
    assert bob.pk in Worker.objects.filter(paid_at__isnull=False).values_list("pk", flat=True)


def test_it_adds_only_new_rows_on_a_second_export_and_everyone_with_all(
    alice_client: Client, bob_client: Client, run: CollectionRun, tmp_path: Path
) -> None:
    _finished(alice_client, run, ALICE, TaskOutcome.FINISHED)
    call_command("export_payments", "--run", run.name, "--output", str(tmp_path / "1.csv"))
    paid_at = Worker.objects.get(external_id="alice").paid_at

    call_command("export_payments", "--run", run.name, "--output", str(tmp_path / "2.csv"))
    assert _read(tmp_path / "2.csv") == []

    _finished(bob_client, run, BOB, TaskOutcome.LEFT_EARLY)
    call_command("export_payments", "--run", run.name, "--output", str(tmp_path / "3.csv"))
    assert [r["external_id"] for r in _read(tmp_path / "3.csv")] == ["bob"]

    call_command("export_payments", "--run", run.name, "--output", str(tmp_path / "4.csv"), "--all")
    assert [r["external_id"] for r in _read(tmp_path / "4.csv")] == ["alice", "bob"]
    assert Worker.objects.get(external_id="alice").paid_at == paid_at


def test_it_writes_the_prolific_bulk_bonus_lines(
    alice_client: Client, bob_client: Client, run: CollectionRun, tmp_path: Path
) -> None:
    _finished(alice_client, run, ALICE, TaskOutcome.LEFT_EARLY)  # no bonus
    _finished(bob_client, run, BOB, TaskOutcome.FINISHED)
    output = tmp_path / "prolific.csv"

    call_command(
        "export_payments", "--run", run.name, "--output", str(output), "--site", "prolific"
    )

    assert output.read_text() == "bob,14.00\n"
    # Alice is settled too: her base is paid by approving her submission on the site.
    assert Worker.objects.filter(paid_at__isnull=True).count() == 0


def test_it_writes_the_mturk_bonus_rows(
    bob_client: Client, alice_client: Client, tmp_path: Path
) -> None:
    run = quick_run(bonus=Decimal("2.00"))
    _finished(bob_client, run, BOB, TaskOutcome.FINISHED, mturk=True)  # workerId WBOB1
    _finished(alice_client, run, ALICE, TaskOutcome.FINISHED)  # a Prolific worker
    output = tmp_path / "mturk.csv"

    call_command("export_payments", "--run", run.name, "--output", str(output), "--site", "mturk")

    assert output.read_text().splitlines() == [
        "WorkerId,AssignmentId,BonusAmount,Reason",
        "WBOB1,A-WBOB1,19.00,ESC task status 03",
    ]
    # The Prolific worker cannot be paid by an MTurk file, so stays unpaid.
    assert Worker.objects.get(external_id="alice").paid_at is None


def test_it_names_an_unknown_run(tmp_path: Path) -> None:
    quick_run("pilot")
    with pytest.raises(CommandError, match=r"no collection run named 'nope'.*pilot"):
        call_command("export_payments", "--run", "nope", "--output", str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()


def test_it_marks_nobody_paid_when_the_file_cannot_be_written(
    alice_client: Client, run: CollectionRun, tmp_path: Path
) -> None:
    _finished(alice_client, run, ALICE, TaskOutcome.FINISHED)
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "export_payments", "--run", run.name, "--output", str(tmp_path / "no" / "x.csv")
        )
    assert Worker.objects.get(external_id="alice").paid_at is None
    # A target that is a folder: the rename fails after the rows were written, all rolled back.
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(CommandError):
        call_command("export_payments", "--run", run.name, "--output", str(tmp_path / "folder.csv"))
    assert Worker.objects.get(external_id="alice").paid_at is None
    assert [p.name for p in tmp_path.iterdir()] == ["folder.csv"]


def test_it_leaves_out_a_worker_whose_data_was_deleted(
    alice_client: Client, bob_client: Client, run: CollectionRun, tmp_path: Path
) -> None:
    alice = _finished(alice_client, run, ALICE, TaskOutcome.FINISHED)
    _finished(bob_client, run, BOB, TaskOutcome.FINISHED)
    delete_personal_data(alice)

    call_command("export_payments", "--run", run.name, "--output", str(tmp_path / "p.csv"))

    assert [r["external_id"] for r in _read(tmp_path / "p.csv")] == ["bob"]


def test_it_downloads_from_the_admin_and_marks_the_rows_paid(
    alice_client: Client, ada_client: Client, run: CollectionRun
) -> None:
    _finished(alice_client, run, ALICE, TaskOutcome.FINISHED)
    action = {"action": "download_unpaid_payments", "_selected_action": [run.pk]}

    first = ada_client.post("/admin/crowd/collectionrun/", action)
    second = ada_client.post("/admin/crowd/collectionrun/", action)

    assert first["Content-Type"].startswith("text/csv")
    assert "attachment" in first["Content-Disposition"]
    lines = first.content.decode().splitlines()
    assert lines[0].startswith("worker_id,external_id,provider")
    assert lines[1].split(",")[1] == "alice"
    assert second.content.decode().splitlines() == [lines[0]]
    assert Worker.objects.get(external_id="alice").paid_at is not None
