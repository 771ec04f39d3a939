"""The tutorial API: list and answer, with clear errors, CSRF, and both endpoints in the schema."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cast import ALICE, SAM
from tests.crowd.factories import enter
from tests.tutorial.helpers import right, wrong
from tutorial.models import QuizAnswer

pytestmark = pytest.mark.django_db


def test_it_lists_subtasks_with_the_workers_progress(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    client.post("/tutorial/1/", {"option": str(wrong(content[0]))})

    body = client.get("/api/tutorial/").json()

    assert body["progress"] == {
        "attempt": 1,
        "attempts_allowed": 2,
        "max_wrong": 0,
        "answered": 1,
        "total": 11,
    }
    first = body["subtasks"][0]
    assert first["number"] == 1 and first["key"] == "exploration"
    assert first["answer"] == {"option": wrong(content[0])}  # no grade, no key
    assert body["subtasks"][1]["options"] == content[1].options


def test_it_grades_an_answer_on_the_server_and_says_only_what_was_saved(
    sam_client, content
) -> None:
    client = sam_client
    sam = enter(SAM, client=client)

    response = client.post(
        "/api/tutorial/3/answer/", {"option": right(content[2])}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json() == {"option": right(content[2])}
    answer = QuizAnswer.objects.get(attempt__worker=sam)
    assert (answer.subtask, answer.is_correct) == (content[2], True)


@pytest.mark.parametrize(
    "payload",
    [{}, {"option": "two"}, {"option": -1}, {"option": 4}, {"option": None}, {"option": 1.5}],
)
def test_it_refuses_bad_input_with_400(sam_client, content, payload) -> None:
    client = sam_client
    enter(SAM, client=client)
    response = client.post("/api/tutorial/1/answer/", payload, content_type="application/json")
    assert response.status_code == 400
    assert "option" in response.json()
    assert not QuizAnswer.objects.exists()


def test_it_refuses_a_second_answer_with_409(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    client.post(
        "/api/tutorial/1/answer/", {"option": wrong(content[0])}, content_type="application/json"
    )

    response = client.post(
        "/api/tutorial/1/answer/", {"option": right(content[0])}, content_type="application/json"
    )

    assert response.status_code == 409
    assert "first answer counts" in response.json()["detail"]
    assert QuizAnswer.objects.get().option == wrong(content[0])


def test_it_answers_404_for_a_part_that_does_not_exist(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    response = client.post(
        "/api/tutorial/12/answer/", {"option": 0}, content_type="application/json"
    )
    assert response.status_code == 404


def test_it_refuses_outsiders_and_seekers_with_403(alice_client, content) -> None:
    outsider = Client()
    assert outsider.get("/api/tutorial/").status_code == 403
    assert (
        outsider.post(
            "/api/tutorial/1/answer/", {"option": 0}, content_type="application/json"
        ).status_code
        == 403
    )
    seeker = alice_client
    enter(ALICE, client=seeker)
    assert seeker.get("/api/tutorial/").status_code == 403
    assert (
        seeker.post(
            "/api/tutorial/1/answer/", {"option": 0}, content_type="application/json"
        ).status_code
        == 403
    )
    assert not QuizAnswer.objects.exists()


def test_it_enforces_csrf_for_workers(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = client.cookies  # the same worker session, in a browser that checks CSRF

    refused = browser.post(
        "/api/tutorial/1/answer/", {"option": 0}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    browser.get("/tutorial/1/")  # sets the CSRF cookie like the page would
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/tutorial/1/answer/",
        {"option": 0},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200


def test_it_publishes_both_endpoints_in_the_openapi_schema(rita_client: Client) -> None:
    # The schema is for staff (esc_platform/settings.py, SPECTACULAR_SETTINGS).
    response = rita_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/tutorial/:" in text or '"/api/tutorial/"' in text
    assert "/api/tutorial/{number}/answer/" in text
    assert "tutorial_answer" in text and "tutorial_list" in text
