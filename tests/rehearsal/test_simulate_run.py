"""`simulate_run` against a real server (uvicorn on the test database): simulated pairs walk
the whole journey over HTTP and the websocket, as browsers would (docs/rehearsal.md)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chat.dataset.exporting import exportable_conversations
from chat.models import Conversation, Utterance
from crowd.models import CollectionRun, Worker
from quality.models import Flag
from rehearsal.models import RehearsalToken
from tests.browser_support import asgi_server  # noqa: F401  (the fixture)
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = {
    "seeker": ["entry link", "consent", "pre-chat survey", "waiting room", "chat",
               "post-chat survey", "completion"],
    "supporter": ["entry link", "consent", "training and quiz", "waiting room", "chat",
                  "post-chat survey", "completion"],
}  # fmt: skip


def _run(**settings: object) -> CollectionRun:
    call_command("load_tutorial", verbosity=0)
    return make_run(
        name="rehearse",
        researcher_name="The study team",
        researcher_contact="team@example.org",
        min_turns_to_end=1,
        min_seconds_to_end=0,
        **settings,
    )


def _simulate(base_url: str, *args: str) -> str:
    out = StringIO()
    call_command(
        "simulate_run", "--run", "rehearse", "--base-url", base_url, "--typing-speed", "10",
        "--partner-wait", "60", "--max-wait", "60", *args, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def test_two_pairs_walk_the_whole_journey_and_are_judged(asgi_server: str) -> None:  # noqa: F811
    run = _run(accepts_mturk=False)
    text = _simulate(asgi_server, "--pairs", "2")

    assert "rehearsal of 'rehearse' passed: 2 pairs" in text
    for role, steps in STEPS.items():
        for number in (1, 2):
            for step in steps:
                assert any(
                    line.startswith("ok ") and f"{role} {number} " in line and step in line
                    for line in text.splitlines()
                ), f"{role} {number}: no ok line for {step}\n{text}"
    workers = Worker.objects.filter(run=run)
    assert workers.count() == 4
    assert all(w.simulated and w.stage == "done" and w.status_code == "03" for w in workers)
    assert {w.provider for w in workers} == {"prolific"}
    conversations = Conversation.objects.filter(run=run)
    assert [c.end_reason for c in conversations] == ["finished", "finished"]
    assert all(c.quality_status != "pending" for c in conversations)
    # Two short chats: the paper's filter turns them away, and the report says why.
    first = conversations[0]
    assert f"conversation {first.pk}: {first.quality_status} by rule set v" in text
    reasons = first.quality_decisions.get().reasons
    assert reasons and all(f"    - {reason}" in text for reason in reasons)
    for utterance in Utterance.objects.filter(conversation__run=run):
        compose = utterance.compose
        assert compose is not None and compose["pasted"] == 0, compose
        assert compose["typing_frames"] >= 1 and compose["ms"] >= 1000, compose
        # Typed at a person's speed: under the rule set's 15 characters a second.
        assert compose["typed"] / (compose["ms"] / 1000) < 15
    assert not Flag.objects.filter(conversation__run=run, kind__startswith="authenticity").exists()
    token = RehearsalToken.objects.get(run=run)
    assert token.workers_entered == 4 and token.revoked_at is not None
    assert not exportable_conversations(status="all").filter(run=run).exists()


def test_a_run_on_mturk_enters_with_mturk_links_and_reports_as_json(asgi_server: str) -> None:  # noqa: F811
    run = _run(accepts_prolific=False, accepts_mturk=True)
    report = json.loads(_simulate(asgi_server, "--pairs", "1", "--format", "json"))
    assert report["passed"] is True
    assert {step["name"] for step in report["steps"]} >= set(STEPS["seeker"] + STEPS["supporter"])
    assert [c["status"] for c in report["conversations"]] != ["pending"]
    assert {w.provider for w in Worker.objects.filter(run=run)} == {"mturk"}


def test_a_paused_run_fails_at_the_entry_link_and_the_command_says_so(asgi_server: str) -> None:  # noqa: F811
    run = _run(paused=True)
    with pytest.raises(CommandError, match=r"failed at seeker 1's step 'entry link': .*503"):
        _simulate(asgi_server, "--pairs", "1")
    assert not Worker.objects.filter(run=run).exists()


def test_it_refuses_bad_options_naming_them(asgi_server: str) -> None:  # noqa: F811
    _run()
    with pytest.raises(CommandError, match=r"--typing-speed: 0\.5 to 10"):
        _simulate(asgi_server, "--typing-speed", "40")
    with pytest.raises(CommandError, match="--run: no collection run is named 'nowhere'"):
        call_command("simulate_run", "--run", "nowhere", "--base-url", asgi_server)
    with pytest.raises(CommandError, match=r"--base-url: the server at http://127\.0\.0\.1:9 does"):
        call_command("simulate_run", "--run", "rehearse", "--base-url", "http://127.0.0.1:9")
    assert not RehearsalToken.objects.exists()
