"""`run_quality_control` shows a bar on a terminal, stays quiet otherwise, and ends with the
count and the time (esc_platform.progress, as the other batch commands)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from tests.dataset.terminal import terminal
from tests.quality.factories import esconv_record, import_records

pytestmark = pytest.mark.django_db

SECONDS = r"\d+\.\d s"


def test_it_ends_with_the_count_and_the_time_and_draws_nothing_off_a_terminal() -> None:
    import_records([esconv_record(f"Progress {i}") for i in range(3)], status="pending")
    out, err = StringIO(), StringIO()

    call_command("run_quality_control", "--no-release", stdout=out, stderr=err)

    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "judged 3: filtered=0 approved=3 review=0"
    assert re.fullmatch(rf"judged 3 conversations in {SECONDS}", lines[-1])
    assert err.getvalue() == ""


def test_it_draws_a_bar_over_the_chunks_on_a_terminal(settings: object) -> None:
    settings.QUALITY_CONTROL_CHUNK_SIZE = 2  # type: ignore[attr-defined]
    import_records([esconv_record(f"Progress {i}") for i in range(5)], status="pending")
    out = StringIO()

    with terminal() as (tty, screen):
        call_command("run_quality_control", "--no-release", stdout=out, stderr=tty)

    assert "judge:" in screen.text and "5/5" in screen.text, screen.text
    assert re.fullmatch(rf"judged 5 conversations in {SECONDS}", out.getvalue().splitlines()[-1])


def test_it_says_what_it_judged_even_when_nothing_was_pending() -> None:
    out = StringIO()

    call_command("run_quality_control", "--no-release", stdout=out, stderr=StringIO())

    assert re.fullmatch(rf"judged 0 conversations in {SECONDS}", out.getvalue().splitlines()[-1])
