"""The final page: the code, what it means, the pay, and the way back to the crowd site."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from crowd.services import TaskOutcome, finish_worker
from tests.cast import ALICE, FRANK
from tests.crowd.factories import enter, quick_run
from tests.tutorial.factories import fail_training

pytestmark = pytest.mark.django_db


def test_it_shows_the_code_its_meaning_the_pay_and_the_prolific_link(alice_client: Client) -> None:
    run = quick_run(base_pay=Decimal("1.25"), bonus=Decimal("1.00"), currency="GBP")
    alice = enter(ALICE, run, client=alice_client)
    alice = finish_worker(alice, TaskOutcome.FINISHED, post_survey=False)

    body = alice_client.get("/done/").content.decode()

    assert "03 — Finished the task" in body
    assert "You finished the conversation and the survey." in body
    assert "12.50 GBP" in body
    assert alice.completion_code in body
    link = f"https://app.prolific.com/submissions/complete?cc={alice.completion_code}"
    assert f'href="{link}"' in body


def test_it_links_with_the_study_code_the_run_maps_to_the_status(alice_client: Client) -> None:
    run = quick_run(site_completion_codes={"02": "C2PARTNER", "03": "C3DONE"})
    alice = enter(ALICE, run, client=alice_client)
    finish_worker(alice, TaskOutcome.PARTNER_UNRESPONSIVE, post_survey=False)

    body = alice_client.get("/done/").content.decode()

    assert "Thank you — this was not your fault" in body
    assert 'href="https://app.prolific.com/submissions/complete?cc=C2PARTNER"' in body
    assert re.search(r'data-testid="completion-code">C2PARTNER<', body)


def test_it_posts_the_assignment_to_mturk_external_submit(frank_client: Client) -> None:
    run = quick_run(
        completion_mode="mturk",
        completion_url_template="https://workersandbox.mturk.com/mturk/externalSubmit",
    )
    # Frank arrives from MTurk (workerId WFRANK1) and fails the training quiz.
    frank = fail_training(enter(FRANK, run, client=frank_client, mturk=True))

    body = frank_client.get("/done/").content.decode()

    assert 'action="https://workersandbox.mturk.com/mturk/externalSubmit"' in body
    assert 'name="assignmentId" value="A-WFRANK1"' in body
    assert f'name="completionCode" value="{frank.completion_code}"' in body
    assert "00 — Did not pass the training" in body
    assert "app.prolific.com" not in body


def test_it_shows_only_the_code_when_the_run_has_no_return_link(alice_client: Client) -> None:
    run = quick_run(completion_mode="none")
    alice = enter(ALICE, run, client=alice_client)
    alice = finish_worker(alice, TaskOutcome.LEFT_EARLY, post_survey=False)

    body = alice_client.get("/done/").content.decode()

    assert alice.completion_code in body
    assert "Copy this code into the crowdsourcing site" in body
    assert "<form" not in body.split("<main", 1)[1]


def test_it_sends_a_worker_who_is_not_done_to_their_stage(alice_client: Client) -> None:
    run = quick_run()
    enter(ALICE, run, client=alice_client)
    assert alice_client.get("/done/")["Location"] == "/surveys/pre-chat/"


def test_it_refuses_a_browser_without_a_worker() -> None:
    assert Client().get("/done/").status_code == 403
