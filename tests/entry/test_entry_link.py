"""A worker arriving from the crowd site gets one worker record, bound to their session."""

from __future__ import annotations

import pytest
from django.test import Client

from crowd.models import Worker
from tests.cast import ALICE, BOB
from tests.crowd.factories import agree_to_consent

pytestmark = pytest.mark.django_db

# Bob, a supporter, arriving from Prolific.
PROLIFIC = f"/start/?role=supporter&PROLIFIC_PID={BOB.pid}&STUDY_ID=study9&SESSION_ID=sess3"


def test_it_creates_a_prolific_worker_and_shows_consent(client: Client) -> None:
    response = client.get(PROLIFIC)
    assert response.status_code == 302
    assert response["Location"] == "/consent/"
    bob = Worker.objects.get()
    assert (bob.provider, bob.external_id, bob.study_id, bob.assignment_id) == (
        "prolific",
        "bob",
        "study9",
        "sess3",
    )
    assert bob.role == "supporter"
    assert bob.qualification == "not_started"
    assert client.session["worker_id"] == bob.pk
    page = client.get("/consent/")
    assert page.status_code == 200
    assert b"supporter" in page.content


def test_it_creates_an_mturk_worker(alice_client: Client) -> None:
    # Alice, a seeker, arriving from MTurk.
    response = alice_client.get(
        f"/start/?role=seeker&workerId={ALICE.mturk_id}&assignmentId=A1&hitId=H1"
    )
    assert response.status_code == 302
    alice = Worker.objects.get()
    assert (alice.provider, alice.external_id, alice.assignment_id, alice.hit_id, alice.role) == (
        "mturk",
        "WALICE1",
        "A1",
        "H1",
        "seeker",
    )


def test_it_resumes_the_same_worker_in_a_new_session_of_the_same_browser(client: Client) -> None:
    client.get(PROLIFIC)
    bob = Worker.objects.get()
    client.session.flush()  # the session expired; the browser's device cookie did not
    assert client.get(PROLIFIC).status_code == 302
    assert Worker.objects.count() == 1
    assert client.session["worker_id"] == bob.pk


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
    response = client.get(f"/start/?role=seeker&PROLIFIC_PID={BOB.pid}")
    assert response.status_code == 403
    assert b"already takes part as a supporter" in response.content
    assert Worker.objects.get().role == "supporter"


def test_it_asks_an_unknown_browser_to_use_the_task_link(client: Client) -> None:
    response = client.get("/consent/")
    assert response.status_code == 403
    assert b"task link" in response.content


def test_it_requires_the_consent_box_and_then_moves_a_seeker_on(alice_client: Client) -> None:
    client = alice_client
    client.get(f"/start/?role=seeker&PROLIFIC_PID={ALICE.pid}")
    refused = agree_to_consent(client, agree=False)
    assert refused.status_code == 400
    assert b"tick the box" in refused.content
    assert Worker.objects.get().stage == "consent"
    accepted = agree_to_consent(client)
    assert accepted.status_code == 302
    alice = Worker.objects.get()
    assert alice.stage == "pre_survey"
    assert alice.consented_at is not None


def test_it_moves_a_consenting_supporter_into_training(client: Client) -> None:
    client.get(PROLIFIC)
    agree_to_consent(client)
    bob = Worker.objects.get()
    assert (bob.stage, bob.qualification) == ("tutorial", "in_training")
