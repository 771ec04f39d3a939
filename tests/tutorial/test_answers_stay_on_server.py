"""The quiz key never reaches a worker who may still use it: not before, not after answering.

A worker who could learn the right option (from the answer's response, the part's page, the
review page or the API listing) would pass on a second attempt, or with a second study id
after a throwaway first one. Each test changes the key on the server and checks that what the
worker gets does not change with it: a response that leaked the key in any form would.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

import pytest
from django.test import Client

from tests.cast import FRANK, SAM
from tests.crowd.factories import enter
from tests.tutorial.helpers import answer_all, right, wrong
from tutorial.models import SubTask

pytestmark = pytest.mark.django_db

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return _CSRF.sub("", response.content.decode())


def _change_the_key(subtasks: list[SubTask]) -> None:
    for subtask in subtasks:
        SubTask.objects.filter(pk=subtask.pk).update(
            correct_option=(subtask.correct_option + 1) % len(subtask.options),
            explanation=f"Another explanation of {subtask.pk}",
        )


def _no_key_in(text: str, subtasks: list[SubTask]) -> None:
    for subtask in subtasks:
        assert escape(subtask.explanation) not in text
        assert json.dumps(subtask.explanation)[1:-1] not in text
    for leak in ("correct_option", "is_correct", "Correct answer", "Not quite", "is-correct"):
        assert leak not in text


def test_an_unanswered_part_is_the_same_whatever_the_key(sam_client, content) -> None:
    enter(SAM, client=sam_client)
    before = [_page(sam_client, f"/tutorial/{n}/") for n in range(1, len(content) + 1)]
    for page in before:
        _no_key_in(page, content)
    _change_the_key(content)
    assert [_page(sam_client, f"/tutorial/{n}/") for n in range(1, len(content) + 1)] == before


def test_an_answered_part_and_the_review_are_the_same_whatever_the_key(sam_client, content) -> None:
    enter(SAM, client=sam_client)
    answer_all(sam_client, content, wrong_parts=frozenset({2, 5}))
    urls = [f"/tutorial/{n}/" for n in range(1, len(content) + 1)] + ["/tutorial/submit/"]
    before = [_page(sam_client, url) for url in urls]
    for page in before:
        _no_key_in(page, content)
        assert "Wrong" not in page and "Right<" not in page
    assert "Answer saved." in before[0]
    _change_the_key(content)
    assert [_page(sam_client, url) for url in urls] == before


def _answer_everything_by_api(client: Client, content: list[SubTask]) -> list[Any]:
    bodies = []
    for number, subtask in enumerate(content, start=1):
        response = client.post(
            f"/api/tutorial/{number}/answer/",
            {"option": wrong(subtask) if number % 2 else right(subtask)},
            content_type="application/json",
        )
        assert response.status_code == 200
        bodies.append(response.json())
    bodies.append(client.get("/api/tutorial/").json())
    return bodies


def test_a_throwaway_worker_learns_nothing_of_the_key_from_the_api(
    sam_client, frank_client, content
) -> None:
    enter(SAM, client=sam_client)
    seen = _answer_everything_by_api(sam_client, content)
    _no_key_in(json.dumps(seen), content)
    # Frank answers exactly as Sam did, under another key: he is told exactly the same.
    original = [SubTask.objects.get(pk=s.pk) for s in content]
    _change_the_key(content)
    enter(FRANK, client=frank_client)
    for number, subtask in enumerate(original, start=1):
        option = wrong(subtask) if number % 2 else right(subtask)
        response = frank_client.post(
            f"/api/tutorial/{number}/answer/", {"option": option}, content_type="application/json"
        )
        assert response.json() == seen[number - 1]
    listing = frank_client.get("/api/tutorial/").json()
    assert listing["subtasks"] == seen[-1]["subtasks"]


def test_the_form_post_answer_redirects_the_same_whatever_the_grade(sam_client, content) -> None:
    enter(SAM, client=sam_client)
    good = sam_client.post("/tutorial/1/", {"option": str(right(content[0]))})
    bad = sam_client.post("/tutorial/2/", {"option": str(wrong(content[1]))})
    assert (good.status_code, bad.status_code) == (302, 302)
    assert good["Location"].endswith("#result") and bad["Location"].endswith("#result")


def test_after_a_failed_attempt_only_the_number_wrong_is_told(frank_client, content) -> None:
    enter(FRANK, client=frank_client)
    answer_all(frank_client, content, wrong_parts=frozenset({3}))
    assert frank_client.post("/tutorial/submit/")["Location"] == "/tutorial/result/"
    result = _page(frank_client, "/tutorial/result/")
    assert "<strong>1</strong> of the 11 answers wrong" in result
    _no_key_in(result, content)
    for subtask in content:
        assert escape(subtask.title) not in result  # not even which part was wrong
