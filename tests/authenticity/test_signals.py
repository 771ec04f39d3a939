"""The signals of how a message was written, as the rule set in force judges them, and the
rule set's choice of which kinds hold auto-approval back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from authenticity.live import Written, signals
from chat.models import Conversation, Utterance
from quality.judging import judge_pending
from quality.models import AutoApprovalRuleSet, Flag
from quality.rule_sets import current_rule_set, save_rule_set_version
from tests.quality.factories import make_conversation

TEXT = "I keep thinking about what happened at work and I cannot let it go at all."


def _written(**compose: Any) -> Written:
    typed = {"ms": 10_000, "inputs": 70, "typed": len(TEXT), "pasted": 0, "pastes": 0}
    typed |= {"deleted": 0, "blurs": 0, "since_focus_ms": None, "typing_frames": 4}
    return Written(1, 1, "seeker", TEXT, typed | compose)


@pytest.mark.parametrize(
    ("compose", "kinds"),
    [
        ({}, []),
        ({"pasted": len(TEXT), "typed": 0, "inputs": 0, "pastes": 1}, ["authenticity_pasted"]),
        ({"pasted": 19, "pastes": 1}, []),  # a pasted name or address is not a pasted message
        ({"ms": 2_000}, ["authenticity_too_fast"]),
        ({"ms": 5_500}, []),  # under 15 characters a second: fast, but a person
        ({"since_focus_ms": 400}, []),  # too short to have been prepared elsewhere
        ({"typing_frames": 0}, ["authenticity_unconfirmed"]),
        ({"typing_frames": 0, "ms": 4_990}, []),  # under 5 s: it may fall between typing frames
    ],
)
def test_each_signal_has_its_threshold(compose: dict[str, Any], kinds: list[str]) -> None:
    rules = AutoApprovalRuleSet()
    assert [kind for kind, _ in signals(_written(**compose), rules)] == kinds


def test_a_long_message_sent_right_after_coming_back_is_flagged() -> None:
    rules = AutoApprovalRuleSet()
    long = Written(1, 1, "supporter", TEXT * 2, _written(since_focus_ms=400).compose)
    ((kind, evidence),) = signals(long, rules)
    assert kind == "authenticity_after_refocus" and "400 ms after coming back" in evidence
    assert signals(Written(1, 1, "seeker", TEXT, None), rules) == []


@pytest.mark.django_db
def test_the_rule_set_decides_which_kinds_hold_approval_back() -> None:
    informing = make_conversation()
    first = Utterance.objects.get(conversation=informing, position=1)
    Flag.objects.create(conversation=informing, utterance=first, kind="authenticity_no_composition")
    rules = current_rule_set()
    rules.pk, rules.authenticity_blocking = None, ["authenticity_pasted"]
    save_rule_set_version(rules)
    judge_pending()
    informing.refresh_from_db()
    assert informing.quality_status == "approved"
    decision = informing.quality_decisions.get()
    assert "flag: authenticity_no_composition" in decision.reasons
    assert decision.rule_set_version == 2

    with pytest.raises(ValidationError, match="authenticity_blocking"):
        rules.pk, rules.authenticity_blocking = None, ["pasted"]
        save_rule_set_version(rules)


@pytest.mark.django_db
def test_the_research_export_has_composition_and_flags_but_no_text(tmp_path: Any) -> None:
    conversation = make_conversation(utterances=2, end_reason="finished")
    first = Utterance.objects.get(conversation=conversation, position=1)
    first.compose = _written().compose
    first.save(update_fields=["compose"])
    Flag.objects.create(conversation=conversation, utterance=first, kind="authenticity_pasted")
    output = tmp_path / "composition.jsonl"
    call_command("export_composition", "--run", conversation.run.name, "--output", str(output))
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(line["position"], line["speaker"], line["flags"]) for line in lines] == [
        (1, "seeker", ["authenticity_pasted"]),
        (2, "supporter", []),
    ]
    assert lines[0]["compose"] == _written().compose and lines[1]["compose"] is None
    assert lines[0]["chars"] == len(first.text) and "text" not in lines[0]
    with pytest.raises(CommandError, match="no collection run named 'nope'"):
        call_command("export_composition", "--run", "nope", "--output", str(output))


@pytest.mark.django_db
def test_the_run_dashboard_counts_flags_per_worker(rita_client: Any) -> None:
    conversation = make_conversation(utterances=4, end_reason="finished")
    seeker_line, supporter_line = (
        Utterance.objects.get(conversation=conversation, position=p) for p in (1, 2)
    )
    for utterance, kind in (
        (supporter_line, "authenticity_pasted"),
        (supporter_line, "authenticity_too_fast"),
        (seeker_line, "authenticity_no_composition"),
    ):
        Flag.objects.create(conversation=conversation, utterance=utterance, kind=kind)
    board = rita_client.get(f"/runs/{conversation.run.name}/dashboard/").content.decode()
    table = board.split('data-testid="written-table"')[1].split("</table>")[0]
    rows = [row for row in table.split("<tr>")[2:]]
    assert f"supporter #{conversation.supporter_id}" in rows[0]
    assert '<td class="num">1</td><td class="num">1</td><td class="num">0</td>' in rows[0]
    assert f"seeker #{conversation.seeker_id}" in rows[1]


@pytest.mark.django_db
def test_a_reviewer_sees_how_each_message_was_written(rita_client: Any) -> None:
    conversation = make_conversation(utterances=2, end_reason="finished")
    Conversation.objects.filter(pk=conversation.pk).update(quality_status="review")
    first = Utterance.objects.get(conversation=conversation, position=1)
    first.compose = _written(pasted=40, pastes=1, since_focus_ms=1500).compose
    first.save(update_fields=["compose"])
    page = rita_client.get(f"/quality/review/{conversation.pk}/").content.decode()
    written = page.split('data-testid="written-1"')[1].split("</div>")[0]
    assert "10.0 s from first input to send" in written and "40 pasted in 1 pastes" in written
    assert "4 typing signals seen" in written and "1.5 s after coming back" in written
    second = page.split('data-testid="written-2"')[1].split("</div>")[0]
    assert "no composition data" in second
