"""Batch commands show a bar on a terminal, stay quiet otherwise, and end with count and time.

Import, export and the payment export here (quality control: tests/quality/test_progress.py);
all of them go through esc_platform.progress. The terminal is a real pty (tests/dataset/terminal).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from crowd.services import TaskOutcome, finish_worker
from esc_platform.progress import Progress, duration, plural
from tests.cast import ALICE, BOB
from tests.crowd.factories import enter, quick_run
from tests.dataset.helpers import raw_record, write_raw
from tests.dataset.terminal import terminal

pytestmark = pytest.mark.django_db

SECONDS = r"\d+\.\d s"


def _records(tmp_path: Path, count: int) -> Path:
    return write_raw(tmp_path / "in.json", [raw_record(situation=f"s{i}") for i in range(count)])


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_it_ends_an_import_with_the_count_and_the_time_and_draws_nothing_off_a_terminal(
    tmp_path: Path,
) -> None:
    out, err = StringIO(), StringIO()

    call_command("import_esconv", str(_records(tmp_path, 3)), stdout=out, stderr=err)

    assert re.fullmatch(rf"imported 3 conversations in {SECONDS}", _last_line(out.getvalue()))
    assert "(raw): imported 3, skipped 0 already present" in out.getvalue()
    assert err.getvalue() == ""


def test_it_draws_an_import_bar_on_a_terminal(tmp_path: Path) -> None:
    source = _records(tmp_path, 3)
    out = StringIO()

    with terminal() as (tty, screen):
        call_command("import_esconv", str(source), stdout=out, stderr=tty)

    assert "import:" in screen.text and "3/3" in screen.text, screen.text
    assert re.fullmatch(rf"imported 3 conversations in {SECONDS}", _last_line(out.getvalue()))


def test_it_ends_an_export_with_the_count_the_target_and_the_time(tmp_path: Path) -> None:
    call_command("import_esconv", str(_records(tmp_path, 2)), stdout=StringIO())
    target = tmp_path / "out.json"
    out, err = StringIO(), StringIO()

    call_command("export_esconv", "--output", str(target), stdout=out, stderr=err)

    assert re.fullmatch(
        rf"exported 2 conversations to {re.escape(str(target))} in {SECONDS}", out.getvalue()[:-1]
    )
    assert err.getvalue() == ""
    assert len(json.loads(target.read_text())) == 2


def test_it_draws_an_export_bar_on_a_terminal_and_keeps_stdout_for_the_data(
    tmp_path: Path,
) -> None:
    call_command("import_esconv", str(_records(tmp_path, 4)), stdout=StringIO())
    out = StringIO()

    with terminal() as (tty, screen):
        call_command("export_esconv", "--output", "-", stdout=out, stderr=tty)

    # stdout holds the file and nothing else; the bar and the last line went to the terminal.
    assert len(json.loads(out.getvalue())) == 4
    assert "export:" in screen.text and "4/4" in screen.text, screen.text
    assert re.search(rf"exported 4 conversations in {SECONDS}", screen.text), screen.text


def test_it_ends_a_split_export_with_each_file_s_share(tmp_path: Path) -> None:
    call_command("import_esconv", str(_records(tmp_path, 5)), stdout=StringIO())
    target = tmp_path / "esconv.json"
    out = StringIO()

    call_command("export_esconv", "--output", str(target), "--split", "3:1:1", stdout=out)

    assert re.fullmatch(
        rf"exported 5 conversations beside {re.escape(str(target))} "
        rf"\(train 3, valid 1, test 1\) in {SECONDS}",
        _last_line(out.getvalue()),
    )


def test_it_ends_a_payment_export_with_the_rows_and_the_time(
    alice_client: Client, bob_client: Client, tmp_path: Path
) -> None:
    run = quick_run(base_pay=Decimal("1.00"), bonus=Decimal("1.50"))
    for client, actor in ((alice_client, ALICE), (bob_client, BOB)):
        finish_worker(enter(actor, run, client=client), TaskOutcome.FINISHED, post_survey=False)
    out, err = StringIO(), StringIO()
    output = tmp_path / "pay.csv"

    call_command("export_payments", "--run", run.name, "--output", str(output), stdout=out)
    with terminal() as (tty, screen):
        call_command(
            "export_payments", "--run", run.name, "--output", str(output), "--all", stderr=tty
        )
    again = StringIO()
    call_command(
        "export_payments", "--run", run.name, "--output", str(output), stdout=again, stderr=err
    )

    assert re.fullmatch(rf"exported 2 payment rows in {SECONDS}", _last_line(out.getvalue()))
    assert "payments:" in screen.text and "2/2" in screen.text, screen.text
    # Off a terminal nothing reaches stderr; nobody is left to pay, and the line says so.
    assert err.getvalue() == ""
    assert re.fullmatch(rf"exported 0 payment rows in {SECONDS}", _last_line(again.getvalue()))
    # The line tells counts only: no crowd-site id of anyone reaches it.
    assert "alice" not in out.getvalue() and "alice" not in screen.text


def test_the_line_reads_well_for_one_and_for_thousands() -> None:
    assert plural(1, "conversation") == "1 conversation"
    assert plural(12345, "payment row") == "12,345 payment rows"
    assert duration(2.14) == "2.1 s"
    assert duration(125.4) == "2 min 5 s"
    progress = Progress.quiet()
    progress.advance(1234)
    assert re.fullmatch(rf"judged 1,234 conversations in {SECONDS}", progress.summary("judged"))
    assert not progress.drawing
