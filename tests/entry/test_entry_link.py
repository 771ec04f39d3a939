"""A worker arriving from the crowd site gets one worker record, bound to their session."""

from __future__ import annotations

import pytest
from django.test import Client

from crowd.models import Worker

pytestmark = pytest.mark.django_db

PROLIFIC = "/start/?role=supporter&PROLIFIC_PID=alice01&STUDY_ID=study9&SESSION_ID=sess3"


def test_it_creates_a_prolific_worker_and_shows_consent(client: Client) -> None:
    response = client.get(PROLIFIC)
    assert response.status_code == 302
    assert response["Location"] == "/consent/"
    alice = Worker.objects.get()
    assert (alice.provider, alice.external_id, alice.study_id, alice.assignment_id) == (
        "prolific",
        "alice01",
        "study9",
        "sess3",
    )
    assert alice.role == "supporter"
    assert alice.qualification == "not_started"
    assert client.session["worker_id"] == alice.pk
    page = client.get("/consent/")
    assert page.status_code == 200
    assert b"supporter" in page.content


def test_it_creates_an_mturk_worker() -> None:
    client = Client()
    response = client.get("/start/?role=seeker&workerId=BOB42&assignmentId=A1&hitId=H1")
    assert response.status_code == 302
    bob = Worker.objects.get()
    assert (bob.provider, bob.external_id, bob.assignment_id, bob.hit_id, bob.role) == (
        "mturk",
        "BOB42",
        "A1",
        "H1",
        "seeker",
    )


def test_it_resumes_the_same_worker_from_a_new_browser() -> None:
    Client().get(PROLIFIC)
    second_browser = Client()
    second_browser.get(PROLIFIC)
    assert Worker.objects.count() == 1
    assert second_browser.session["worker_id"] == Worker.objects.get().pk


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("role=supporter", b"no worker id"),
        ("PROLIFIC_PID=x1", b"seeker or a supporter"),
        ("role=admin&PROLIFIC_PID=x1", b"seeker or a supporter"),
        ("role=seeker&PROLIFIC_PID=", b"missing PROLIFIC_PID"),
        ("role=seeker&PROLIFIC_PID=%3Cscript%3E", b"not a valid id"),
        ("role=seeker&workerId=W1&assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE", b"accept the HIT"),
        ("role=seeker&PROLIFIC_PID=x1&run=no-such-run", b"not open"),
    ],
)
def test_it_explains_a_bad_link_without_creating_anyone(
    client: Client, query: str, problem: bytes
) -> None:
    response = client.get(f"/start/?{query}")
    assert response.status_code == 400
    assert problem in response.content
    assert b"<script>" not in response.content
    assert Worker.objects.count() == 0


def test_it_refuses_the_same_id_in_another_role(client: Client) -> None:
    client.get(PROLIFIC)
    response = client.get("/start/?role=seeker&PROLIFIC_PID=alice01")
    assert response.status_code == 400
    assert b"already takes part as a supporter" in response.content
    assert Worker.objects.get().role == "supporter"


def test_it_asks_an_unknown_browser_to_use_the_task_link(client: Client) -> None:
    response = client.get("/consent/")
    assert response.status_code == 403
    assert b"task link" in response.content


def test_it_requires_the_consent_box_and_then_moves_a_seeker_on(client: Client) -> None:
    client.get("/start/?role=seeker&PROLIFIC_PID=carol7")
    refused = client.post("/consent/", {})
    assert refused.status_code == 400
    assert b"tick the box" in refused.content
    assert Worker.objects.get().stage == "consent"
    accepted = client.post("/consent/", {"agree": "yes"})
    assert accepted.status_code == 302
    carol = Worker.objects.get()
    assert carol.stage == "pre_survey"
    assert carol.consented_at is not None


def test_it_moves_a_consenting_supporter_into_training(client: Client) -> None:
    client.get(PROLIFIC)
    client.post("/consent/", {"agree": "yes"})
    alice = Worker.objects.get()
    assert (alice.stage, alice.qualification) == ("tutorial", "in_training")
