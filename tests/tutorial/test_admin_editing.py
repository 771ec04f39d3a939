"""Admins edit the content in the Django admin; the form refuses an impossible answer index."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cast import SAM
from tests.crowd.factories import enter
from tutorial.models import SubTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(ada_client: Client) -> Client:
    """Ada, the administrator, edits the content in the Django admin."""
    return ada_client


def _form(subtask: SubTask, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "order": subtask.order,
        "title": subtask.title,
        "definition": subtask.definition,
        "example_seeker": subtask.example_seeker,
        "example_supporter": subtask.example_supporter,
        "question": subtask.question,
        "options": '["One", "Two", "Three"]',
        "correct_option": 2,
        "explanation": subtask.explanation,
    }
    data.update(changes)
    return data


def test_it_saves_an_edit_and_shows_it_to_supporters(researcher, content, sam_client) -> None:
    question = content[1]
    response = researcher.post(
        f"/admin/tutorial/subtask/{question.pk}/change/", _form(question, title="Asking well")
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.title, question.options, question.correct_option) == (
        "Asking well",
        ["One", "Two", "Three"],
        2,
    )
    enter(SAM, client=sam_client)
    assert "Asking well" in sam_client.get("/tutorial/2/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"correct_option": 3}, "Must be an option index from 0 to 2."),
        ({"options": '["Only", "Two"]'}, "Give a JSON list of 3 or 4 non-empty texts."),
        ({"options": '["A", "", "C"]'}, "Give a JSON list of 3 or 4 non-empty texts."),
    ],
)
def test_it_refuses_impossible_options(researcher, content, changes, field_error) -> None:
    question = content[1]
    response = researcher.post(
        f"/admin/tutorial/subtask/{question.pk}/change/", _form(question, **changes)
    )
    assert response.status_code == 200
    assert field_error in response.content.decode()
    question.refresh_from_db()
    assert question.options == content[1].options


def test_it_keeps_keys_out_of_reach_and_links_the_funnel(researcher, content) -> None:
    page = researcher.get("/admin/tutorial/subtask/").content.decode()
    assert 'href="/tutorial/funnel/"' in page
    assert researcher.get("/admin/tutorial/subtask/add/").status_code == 403
