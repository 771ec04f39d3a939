"""Feedback says right or not right and explains the concept, but never gives the key away.

While an attempt can still be used, a worker learns whether each answer was right and reads
the item's explanation. Neither may tell them which option is right: each test moves the key
to another option the worker did not choose and checks that nothing they are shown changes.
A response that leaked the right option in any form (text, mark, attribute, JSON) would.
The right options appear only on the review, once the training is over (test_review.py).
"""

from __future__ import annotations

import json
import re
from html import escape

import pytest
from django.test import Client

from crowd.models import Worker
from tests.cast import FRANK, SAM
from tests.crowd.factories import enter
from tests.tutorial.helpers import answer_all, drawn, post_answer, right, wrong
from tutorial.models import AttemptItem, QuizItem

pytestmark = pytest.mark.django_db

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return _CSRF.sub("", response.content.decode())


def _move_key(shown: AttemptItem, *, keep_off: int | None = None) -> None:
    """Make another option right: not the current right one, nor the worker's choice."""
    item = shown.item
    avoid = {item.correct_option, keep_off}
    new = next(i for i in range(len(item.options)) if i not in avoid)
    QuizItem.objects.filter(pk=item.pk).update(correct_option=new)


def test_an_unanswered_part_is_the_same_whatever_the_key(sam_client, content) -> None:
    sam = enter(SAM, client=sam_client)
    urls = [f"/tutorial/{n}/" for n in range(1, 12)]
    before = [_page(sam_client, url) for url in urls]
    for number in range(1, 12):
        _move_key(drawn(sam, number))
    assert [_page(sam_client, url) for url in urls] == before


def test_a_wrong_answer_is_told_and_explained_but_the_right_option_is_not(
    sam_client, content
) -> None:
    sam = enter(SAM, client=sam_client)
    sam_client.get("/tutorial/")
    chosen = wrong(sam, 4)
    post_answer(sam_client, 4, chosen)
    shown = drawn(sam, 4)
    page = _page(sam_client, "/tutorial/4/")
    assert "Not right." in page and "Right." not in page.replace("Not right.", "")
    assert escape(shown.item.explanation) in page
    assert page.count("is-chosen") == 1 and "Right answer" not in page
    listing = sam_client.get("/api/tutorial/").json()
    assert listing["subtasks"][3]["answer"] == {
        "option": chosen,
        "correct": False,
        "explanation": shown.item.explanation,
    }

    _move_key(shown, keep_off=shown.option_order[chosen])

    assert _page(sam_client, "/tutorial/4/") == page
    assert _page(sam_client, "/tutorial/submit/").count("Not right") == 1
    assert sam_client.get("/api/tutorial/").json() == listing


def test_a_right_answer_is_told_right(sam_client, content) -> None:
    sam = enter(SAM, client=sam_client)
    sam_client.get("/tutorial/")
    post_answer(sam_client, 2, right(sam, 2))
    page = _page(sam_client, "/tutorial/2/")
    assert "Right." in page and "Not right." not in page
    assert 'class="tut-result is-right"' in page


def test_the_api_answer_carries_only_the_grade_and_the_explanation(sam_client, content) -> None:
    sam = enter(SAM, client=sam_client)
    sam_client.get("/api/tutorial/")
    bodies = []
    for number in range(1, 12):
        option = wrong(sam, number) if number % 2 else right(sam, number)
        response = sam_client.post(
            f"/api/tutorial/{number}/answer/",
            {"option": option, "item": drawn(sam, number).item.key},
            content_type="application/json",
        )
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "option": option,
            "correct": number % 2 == 0,
            "explanation": drawn(sam, number).item.explanation,
        }
        bodies.append(body)
    everything = json.dumps(bodies) + json.dumps(sam_client.get("/api/tutorial/").json())
    for leak in ("correct_option", "is_correct", "Right answer"):
        assert leak not in everything


def test_after_a_failed_attempt_the_result_names_parts_but_no_key(frank_client, content) -> None:
    frank = enter(FRANK, client=frank_client)
    answer_all(frank_client, wrong_parts={3, 7})
    chosen = {n: drawn(frank, n) for n in (3, 7)}
    answers = {a.subtask_id: a.option for a in frank.quiz_attempts.get().answers.all()}
    assert frank_client.post("/tutorial/submit/")["Location"] == "/tutorial/result/"
    result = _page(frank_client, "/tutorial/result/")
    assert "<strong>2</strong> of the 11 answers wrong" in result
    assert escape(content[2].title) in result and escape(content[6].title) in result
    for shown in chosen.values():
        assert escape(shown.item.correct_text) not in result

    for shown in chosen.values():
        _move_key(shown, keep_off=answers[shown.subtask_id])

    assert _page(frank_client, "/tutorial/result/") == result


def test_the_review_is_closed_while_an_attempt_can_be_used(frank_client, content) -> None:
    frank = enter(FRANK, client=frank_client)
    assert frank_client.get("/tutorial/review/")["Location"] == "/tutorial/"
    assert frank_client.get("/api/tutorial/review/").status_code == 403
    answer_all(frank_client, wrong_parts={1})
    frank_client.post("/tutorial/submit/")  # failed, one attempt left: still in training
    frank.refresh_from_db()
    assert frank.qualification == Worker.Qualification.IN_TRAINING
    assert frank_client.get("/tutorial/review/")["Location"] == "/tutorial/"
    refused = frank_client.get("/api/tutorial/review/")
    assert refused.status_code == 403
    assert "last attempt" in refused.json()["detail"]
