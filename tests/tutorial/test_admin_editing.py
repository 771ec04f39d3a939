"""Admins edit the content and item banks in the Django admin; the forms keep the quiz sound."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.cast import FRANK, SAM
from tests.crowd.factories import enter
from tests.tutorial.factories import take_attempt, trainee
from tests.tutorial.helpers import drawn
from tutorial.models import QuizItem, SubTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(ada_client: Client) -> Client:
    """Ada, the administrator, edits the content in the Django admin."""
    return ada_client


def _form(subtask: SubTask, *, items: dict[str, dict[str, Any]] | None = None, **changes: Any):
    """The change form of `subtask` as the admin page posts it, with `changes` applied."""
    data: dict[str, Any] = {
        "order": subtask.order,
        "title": subtask.title,
        "definition": subtask.definition,
        "example_seeker": subtask.example_seeker,
        "example_supporter": subtask.example_supporter,
        **changes,
    }
    bank = list(subtask.items.order_by("position", "pk"))
    new = [fields for key, fields in (items or {}).items() if key.startswith("new")]
    data.update(
        {
            "items-TOTAL_FORMS": len(bank) + len(new),
            "items-INITIAL_FORMS": len(bank),
            "items-MIN_NUM_FORMS": 0,
            "items-MAX_NUM_FORMS": 1000,
        }
    )
    rows: list[dict[str, Any]] = [
        {
            "id": item.pk,
            "subtask": subtask.pk,
            "key": item.key,
            "position": item.position,
            "is_active": "on" if item.is_active else "",
            "question": item.question,
            "options": json.dumps(item.options),
            "correct_option": item.correct_option,
            "explanation": item.explanation,
            **(items or {}).get(item.key, {}),
        }
        for item in bank
    ]
    rows += [{"subtask": subtask.pk, "is_active": "on", **fields} for fields in new]
    for index, row in enumerate(rows):
        for name, value in row.items():
            if name == "is_active" and not value:
                continue  # an unticked box is not posted
            data[f"items-{index}-{name}"] = value
    return data


def _post(client: Client, subtask: SubTask, data: dict[str, Any]):
    return client.post(f"/admin/tutorial/subtask/{subtask.pk}/change/", data)


def test_it_saves_an_edit_of_the_lesson_and_an_item_and_shows_it(
    researcher, content, sam_client
) -> None:
    question = content[1]
    options = ["Who was there?", "How did that feel?", "Was it late?", "Did it rain?"]
    data = _form(
        question,
        title="Asking well",
        items={
            "question-1": {
                "options": json.dumps(options),
                "correct_option": 1,
                "explanation": "Inviting a description leaves room for the whole story.",
            },
        },
    )
    response = _post(researcher, question, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    item = QuizItem.objects.get(key="question-1")
    assert question.title == "Asking well"
    assert (item.options, item.correct_option) == (options, 1)

    sam = enter(SAM, client=sam_client)
    assert "Asking well" in sam_client.get("/tutorial/2/").content.decode()
    assert drawn(sam, 2).item.subtask == question


def test_it_adds_an_item_to_a_bank_and_retires_another(researcher, content) -> None:
    question = content[1]
    data = _form(
        question,
        items={
            "question-2": {"is_active": ""},
            "new-1": {
                "key": "question-4",
                "position": 4,
                "question": "Which reply invites the longest answer?",
                "options": json.dumps(["Ok?", "Is he back?", "What happened next?", "Was it you?"]),
                "correct_option": 2,
                "explanation": "Invitations to describe leave the most room.",
            },
        },
    )
    assert _post(researcher, question, data).status_code == 302
    assert QuizItem.objects.get(key="question-4").subtask == question
    assert not QuizItem.objects.get(key="question-2").is_active


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"correct_option": 3, "options": '["A", "B", "C"]'}, "Give a JSON list of 4 different"),
        ({"options": '["Only", "Two"]'}, "Give a JSON list of 4 different"),
        ({"options": '["A", "", "C", "D"]'}, "Give a JSON list of 4 different"),
        ({"options": '["A", "a.", "C", "D"]'}, "has the same option twice"),
        (
            {"options": '["Alpha beta", "Gamma delta", "Zeta", "What time did this happen?"]'},
            "already an option of item",
        ),
        ({"correct_option": 5}, "Must be an option index from 0 to 3."),
        ({"explanation": "Ask: How has all this been affecting your sleep?"}, "repeats the"),
        (
            {"explanation": "Never ask: What time did this happen? Ask openly."},
            "an option of item &#x27;comforting-1&#x27;",
        ),
        (
            {"options": '["A gentle, open invitation to say more", "B", "C", "D"]'},
            "The explanation of item &#x27;exploration-2&#x27; quotes one of these options",
        ),
    ],
)
def test_it_refuses_an_item_that_would_break_the_quiz(
    researcher, content, changes, field_error
) -> None:
    question = content[1]
    before = QuizItem.objects.get(key="question-1")
    response = _post(researcher, question, _form(question, items={"question-1": changes}))
    assert response.status_code == 200
    assert field_error in response.content.decode()
    after = QuizItem.objects.get(key="question-1")
    assert (after.options, after.correct_option, after.explanation) == (
        before.options,
        before.correct_option,
        before.explanation,
    )


def test_it_keeps_three_active_items_in_every_bank(researcher, content) -> None:
    question = content[1]
    response = _post(researcher, question, _form(question, items={"question-3": {"is_active": ""}}))
    assert response.status_code == 200
    assert "Keep at least 3 active items" in response.content.decode()
    assert QuizItem.objects.get(key="question-3").is_active


def test_it_keeps_keys_out_of_reach_and_links_the_funnel(researcher, content) -> None:
    question = content[1]
    data = _form(question, items={"question-1": {"key": "renamed"}})
    assert _post(researcher, question, data).status_code == 302
    assert QuizItem.objects.filter(key="question-1").exists()  # a saved item keeps its key
    assert not QuizItem.objects.filter(key="renamed").exists()
    page = researcher.get("/admin/tutorial/subtask/").content.decode()
    assert 'href="/tutorial/funnel/"' in page
    assert researcher.get("/admin/tutorial/subtask/add/").status_code == 403


def test_the_admin_pages_show_the_bank_and_an_attempts_draw(researcher, content) -> None:
    page = researcher.get(f"/admin/tutorial/subtask/{content[1].pk}/change/").content.decode()
    for key in ("question-1", "question-2", "question-3"):
        assert key in page
    frank = trainee(FRANK)
    take_attempt(frank, wrong_parts={1})
    attempt = frank.quiz_attempts.get()
    shown = researcher.get(f"/admin/tutorial/quizattempt/{attempt.pk}/change/")
    assert shown.status_code == 200
    text = shown.content.decode()
    assert all(d.item.key in text for d in attempt.drawn.select_related("item"))
