"""`safety_scan` over the released ESConv splits (1,300 dialogues): it completes, and flags a
small, sane share of them (docs/safety.md gives the measured figures and a judged sample).
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.esconv, pytest.mark.django_db]


@pytest.fixture(scope="module")
def scan(esconv_dir: Path, django_db_blocker: Any) -> dict[str, Any]:
    out = StringIO()
    with django_db_blocker.unblock():
        call_command(
            "safety_scan",
            "--file",
            str(esconv_dir / "hf_release_splits"),
            "--format",
            "json",
            stdout=out,
        )
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_every_conversation_and_message_is_scanned(scan: dict[str, Any]) -> None:
    assert scan["conversations"] == 1300
    assert scan["messages"] == 38365


def test_the_flag_rate_is_in_the_measured_band(scan: dict[str, Any]) -> None:
    # Measured: 30 of 1,300 conversations (2.3%), 35 of 38,365 messages (0.09%). ESConv's
    # seekers talk about depression and breakups, rarely about danger: a rate far above this
    # band means the detector fires on everyday sadness, far below it that it went deaf.
    rate = scan["flagged_conversations"] / scan["conversations"]
    assert 0.01 <= rate <= 0.06, rate
    assert len(scan["flags"]) / scan["messages"] <= 0.005


def test_seeker_danger_dominates_and_supporters_are_rarely_flagged(scan: dict[str, Any]) -> None:
    by_speaker = {"seeker": 0, "supporter": 0}
    for flag in scan["flags"]:
        by_speaker[flag["speaker"]] += 1
    assert by_speaker["seeker"] >= 0.8 * len(scan["flags"])
    assert {f["category"] for f in scan["flags"] if f["speaker"] == "seeker"} >= {
        "suicide_self_harm",
        "harmed_by_others",
    }


def test_flags_we_judged_right_are_found(scan: dict[str, Any]) -> None:
    # Read by hand (docs/safety.md): a seeker asking how to kill themselves, a seeker
    # disclosing abuse by a stepparent, a seeker telling of a past overdose. Conversation
    # indexes count test.json, then train.json, then valid.json.
    found = {(f["conversation"], f["position"], f["category"]) for f in scan["flags"]}
    assert {
        (1001, 1, "suicide_self_harm"),
        (684, 5, "harmed_by_others"),
        (986, 34, "medical_danger"),
    } <= found
