"""The tutorial API: the same questions, order and feedback as the pages, clear errors, CSRF,
and every endpoint in the schema."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cast import ALICE, SAM
from tests.crowd.factories import enter
from tests.tutorial.helpers import drawn, post_answer, right, wrong
from tutorial.models import QuizAnswer

pytestmark = pytest.mark.django_db


def test_it_lists_the_attempts_questions_with_the_workers_progress(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/tutorial/")
    post_answer(client, 1, wrong(sam, 1))

    body = client.get("/api/tutorial/").json()

    assert body["progress"] == {
        "attempt": 1,
        "attempts_allowed": 2,
        "max_wrong": 0,
        "answered": 1,
        "wrong": 1,
        "total": 11,
    }
    first, second = body["subtasks"][0], body["subtasks"][1]
    assert first["number"] == 1 and first["key"] == "exploration"
    assert first["answer"] == {
        "option": wrong(sam, 1),
        "correct": False,
        "explanation": drawn(sam, 1).item.explanation,
    }
    # The page's question, in the page's order, with the item's key to send back.
    assert second["item"] == drawn(sam, 2).item.key
    assert second["question"] == drawn(sam, 2).item.question
    assert second["options"] == drawn(sam, 2).shown_options()
    assert second["answer"] is None


def test_it_grades_an_answer_on_the_server_and_returns_the_feedback(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/api/tutorial/")

    response = client.post(
        "/api/tutorial/3/answer/", {"option": right(sam, 3)}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "option": right(sam, 3),
        "correct": True,
        "explanation": drawn(sam, 3).item.explanation,
    }
    answer = QuizAnswer.objects.get(attempt__worker=sam)
    assert (answer.subtask, answer.is_correct) == (content[2], True)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"option": "two"},
        {"option": -1},
        {"option": 4},
        {"option": None},
        {"option": 1.5},
        {"option": 0, "item": "x" * 81},
    ],
)
def test_it_refuses_bad_input_with_400(sam_client, content, payload) -> None:
    client = sam_client
    enter(SAM, client=client)
    response = client.post("/api/tutorial/1/answer/", payload, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) & {"option", "item"}
    assert not QuizAnswer.objects.exists()


def test_it_refuses_a_second_answer_with_409(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/api/tutorial/")
    client.post(
        "/api/tutorial/1/answer/", {"option": wrong(sam, 1)}, content_type="application/json"
    )

    response = client.post(
        "/api/tutorial/1/answer/", {"option": right(sam, 1)}, content_type="application/json"
    )

    assert response.status_code == 409
    assert "first answer counts" in response.json()["detail"]
    shown = drawn(sam, 1)
    assert QuizAnswer.objects.get().option == shown.option_order[wrong(sam, 1)]


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
    assert outsider.get("/api/tutorial/review/").status_code == 403
    assert (
        outsider.post(
            "/api/tutorial/1/answer/", {"option": 0}, content_type="application/json"
        ).status_code
        == 403
    )
    seeker = alice_client
    enter(ALICE, client=seeker)
    assert seeker.get("/api/tutorial/").status_code == 403
    assert seeker.get("/api/tutorial/review/").status_code == 403
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


def test_it_publishes_every_endpoint_in_the_openapi_schema(rita_client: Client) -> None:
    # The schema is for staff (esc_platform/settings.py, SPECTACULAR_SETTINGS).
    response = rita_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/tutorial/:" in text or '"/api/tutorial/"' in text
    assert "/api/tutorial/{number}/answer/" in text
    assert "/api/tutorial/review/" in text
    assert "tutorial_answer" in text and "tutorial_list" in text and "tutorial_review" in text
