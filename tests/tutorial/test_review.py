"""Once the training is over, the review shows every item with the answer, the key and why."""

from __future__ import annotations

from html import escape

import pytest

from tests.cast import BOB, FRANK
from tests.crowd.factories import enter
from tests.tutorial.helpers import answer_all, drawn
from tutorial.models import AttemptItem, QuizAnswer

pytestmark = pytest.mark.django_db


def _entries(page: str) -> list[str]:
    return page.split('data-testid="reviewed-item"')[1:]


def test_after_passing_the_review_shows_each_item_with_the_right_answer(
    bob_client, content
) -> None:
    bob = enter(BOB, client=bob_client)
    answer_all(bob_client)
    shown = [drawn(bob, n) for n in range(1, 12)]
    bob_client.post("/tutorial/submit/")

    page = bob_client.get("/tutorial/review/").content.decode()

    assert "You passed the training" in page and 'href="/chat/waiting/"' in page
    entries = _entries(page)
    assert len(entries) == 11
    for entry, item in zip(entries, shown, strict=True):
        assert escape(item.item.question) in entry
        assert escape(item.item.explanation) in entry
        # Right and chosen are the same option here, marked once each.
        assert entry.count("Right answer") == 1 and entry.count("Your answer") == 1
        texts = [f'<span class="tut-option-text">{escape(t)}</span>' for t in item.shown_options()]
        assert [entry.index(t) for t in texts] == sorted(entry.index(t) for t in texts)


def test_after_the_last_attempt_the_review_shows_both_attempts_and_the_mistakes(
    frank_client, content
) -> None:
    frank = enter(FRANK, client=frank_client)
    answer_all(frank_client, wrong_parts={2})
    frank_client.post("/tutorial/submit/")
    frank_client.post("/tutorial/retry/")
    answer_all(frank_client, wrong_parts={4, 9})
    assert frank_client.post("/tutorial/submit/")["Location"] == "/tutorial/review/"

    page = frank_client.get("/tutorial/review/").content.decode()
    api = frank_client.get("/api/tutorial/review/").json()

    assert "did not pass" in page and 'href="/done/"' in page
    assert len(_entries(page)) == 22
    assert [a["number"] for a in api["attempts"]] == [1, 2]
    assert [a["wrong_count"] for a in api["attempts"]] == [1, 2]
    second = api["attempts"][1]["items"]
    for number, item in enumerate(second, start=1):
        answer = QuizAnswer.objects.get(
            attempt__worker=frank, attempt__number=2, subtask=content[number - 1]
        )
        shown = AttemptItem.objects.get(attempt=answer.attempt, subtask=answer.subtask)
        assert item["options"] == shown.shown_options()
        assert item["chosen"] == shown.shown_position(answer.option)
        assert item["correct_option"] == shown.shown_position(shown.item.correct_option)
        assert item["correct"] is (number not in (4, 9))
        assert item["explanation"] == shown.item.explanation
        right_text = escape(shown.item.correct_text)
        assert right_text in page
    assert page.count('<span class="tut-tag tut-tag-ok">Right answer</span>') == 22
