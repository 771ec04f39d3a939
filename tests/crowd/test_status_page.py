"""The final page: the code, what it means, the pay, and the way back to the crowd site."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from crowd.models import Worker
from crowd.services import TaskOutcome, finish_worker
from tests.cast import ALICE, FRANK
from tests.crowd.factories import agree_to_consent, enter, entry_params, quick_run
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


def test_it_posts_the_assignment_to_the_mturk_host_the_hit_came_from(frank_client: Client) -> None:
    # The run returns its Prolific workers to Prolific; Frank came from MTurk's sandbox
    # (workerId WFRANK1) and fails the training quiz.
    run = quick_run(site_completion_codes={"00": "C0FAIL"})
    link = entry_params(FRANK, FRANK.role, run, mturk=True)
    link["turkSubmitTo"] = "https://workersandbox.mturk.com"
    assert frank_client.get("/start/", link).status_code == 302
    frank = Worker.objects.get(external_id=FRANK.mturk_id)
    agree_to_consent(frank_client)
    frank = fail_training(Worker.objects.get(pk=frank.pk))

    body = frank_client.get("/done/").content.decode()

    assert 'action="https://workersandbox.mturk.com/mturk/externalSubmit"' in body
    assert 'name="assignmentId" value="A-WFRANK1"' in body
    assert f'name="completionCode" value="{frank.completion_code}"' in body
    assert "00 — Did not pass the training" in body
    assert "app.prolific.com" not in body
    assert "C0FAIL" not in body, "Prolific's study codes are for Prolific workers"


def test_an_mturk_link_without_a_host_goes_to_the_run_s_mturk(frank_client: Client) -> None:
    run = quick_run(mturk_sandbox=False)
    frank = fail_training(enter(FRANK, run, client=frank_client, mturk=True))
    body = frank_client.get("/done/").content.decode()
    assert 'action="https://www.mturk.com/mturk/externalSubmit"' in body
    assert frank.completion_code in body


def test_a_run_refuses_a_site_it_does_not_take(frank_client: Client) -> None:
    run = quick_run(accepts_mturk=False)
    response = frank_client.get("/start/", entry_params(FRANK, FRANK.role, run, mturk=True))
    assert response.status_code == 400
    assert b"does not take part through Amazon Mechanical Turk" in response.content
    bogus = entry_params(FRANK, FRANK.role, quick_run("other"), mturk=True)
    bogus["turkSubmitTo"] = "https://evil.example.org"
    assert frank_client.get("/start/", bogus).status_code == 400
    assert not Worker.objects.exists()


def test_it_shows_only_the_code_when_the_run_has_no_return_link(alice_client: Client) -> None:
    run = quick_run(prolific_completion_url="")
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


@pytest.mark.parametrize(
    ("outcome", "said", "not_said"),
    [
        (TaskOutcome.RELEASED_FROM_WAITING, "No partner became available in time", "partner"),
        (TaskOutcome.PARTNER_LEFT, "Your partner left the conversation", "stopped responding"),
        (TaskOutcome.PARTNER_UNRESPONSIVE, "Your partner stopped responding", "left the"),
    ],
)
def test_the_status_page_says_what_really_happened(
    alice_client: Client, outcome: TaskOutcome, said: str, not_said: str
) -> None:
    alice = enter(ALICE, quick_run(), client=alice_client)
    finish_worker(alice, outcome, post_survey=False)
    meaning = alice_client.get("/done/").content.decode().split('data-testid="status-meaning">')[1]
    meaning = meaning.split("</p>", 1)[0]
    assert said in meaning
    assert not_said not in meaning.replace(said, "")
    assert "02 — " in alice_client.get("/done/").content.decode()


def test_a_plain_link_tries_the_demo_run_and_is_told_nobody_is_paid(mallory_client: Client) -> None:
    # A fresh install has only the demo run; a link from no crowd site at all lands there.
    response = mallory_client.get("/start/", {"role": "seeker", "participant": "try-it-1"})
    assert response.status_code == 302
    worker = Worker.objects.get(external_id="try-it-1")
    assert (worker.provider, worker.run.is_demo) == ("other", True)
    finish_worker(worker, TaskOutcome.LEFT_EARLY, post_survey=False)
    body = mallory_client.get("/done/").content.decode()
    assert "nobody is paid" in body
    assert worker.completion_code in body
    assert "app.prolific.com" not in body and "mturk" not in body


def test_a_generic_link_worker_returns_to_the_run_s_own_site(alice_client: Client) -> None:
    run = quick_run(accepts_other=True, other_return_url="https://panel.example.org/done?c={code}")
    link = {"role": "seeker", "participant": "panel-77", "run": run.name}
    assert alice_client.get("/start/", link).status_code == 302
    worker = finish_worker(
        Worker.objects.get(external_id="panel-77"), TaskOutcome.FINISHED, post_survey=False
    )
    body = alice_client.get("/done/").content.decode()
    assert f'href="https://panel.example.org/done?c={worker.completion_code}"' in body
    refused = Client().get("/start/", {**link, "run": quick_run("closed-to-others").name})
    assert refused.status_code == 400
