"""The correct option and the explanation never reach the browser before the worker answers."""

from __future__ import annotations

import json
import re
from html import escape

import pytest

from tests.cast import SAM
from tests.crowd.factories import enter
from tests.tutorial.helpers import right
from tutorial.models import SubTask

pytestmark = pytest.mark.django_db

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return _CSRF.sub("", response.content.decode())


def test_it_renders_an_unanswered_part_the_same_whatever_the_correct_option(
    sam_client, content
) -> None:
    client = sam_client
    enter(SAM, client=client)
    for number, subtask in enumerate(content, start=1):
        url = f"/tutorial/{number}/"
        before = _page(client, url)
        assert escape(subtask.explanation) not in before
        assert "Correct answer" not in before and "data-correct" not in before
        # Change which option is right: a page that leaked it in any form would change too.
        SubTask.objects.filter(pk=subtask.pk).update(
            correct_option=(subtask.correct_option + 1) % len(subtask.options),
            explanation="A different explanation",
        )
        assert _page(client, url) == before


def test_it_keeps_them_out_of_every_other_page(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    pages = [_page(client, url) for url in ("/tutorial/", "/tutorial/submit/")]
    for subtask in content:
        for page in pages:
            assert escape(subtask.explanation) not in page


def test_it_keeps_them_out_of_the_api_until_answered(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    body = client.get("/api/tutorial/").json()

    text = json.dumps(body)
    assert "correct_option" not in text
    assert "explanation" not in text
    assert all(item["answer"] is None for item in body["subtasks"])

    client.post("/tutorial/2/", {"option": str(right(content[1]))})
    body = client.get("/api/tutorial/").json()
    revealed = [item for item in body["subtasks"] if item["answer"] is not None]
    assert [item["number"] for item in revealed] == [2]
    assert revealed[0]["answer"]["explanation"] == content[1].explanation
    assert revealed[0]["answer"]["correct_option"] == content[1].correct_option
    for subtask in content[2:]:
        assert subtask.explanation not in json.dumps(body)


def test_it_reveals_the_explanation_only_after_answering(sam_client, content) -> None:
    client = sam_client
    enter(SAM, client=client)
    client.post("/tutorial/1/", {"option": str(right(content[0]))})

    page = _page(client, "/tutorial/1/")

    assert escape(content[0].explanation) in page
    assert 'role="status"' in page
    assert "Correct answer" in page
