"""A supporter works through the eleven parts, answers are kept, and the attempt is graded."""

from __future__ import annotations

import re
from html import escape

import pytest
from django.test import Client

from crowd.models import StatusCode, Worker
from tests.cast import ALICE, BOB, FRANK, SAM
from tests.crowd.factories import enter, rejoin
from tests.tutorial.helpers import answer_all, drawn, post_answer, right, wrong
from tutorial.models import QuizAnswer, QuizAttempt

pytestmark = pytest.mark.django_db


def test_it_shows_the_intro_then_one_part_per_page_with_progress(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    assert sam.stage == Worker.Stage.TUTORIAL

    intro = client.get("/tutorial/").content.decode()
    assert "the order is a guide, not a script" in intro
    assert "never copy the example sentences" in intro
    assert "asks a different question on each part" in intro
    assert 'href="/tutorial/1/"' in intro

    page = client.get("/tutorial/4/").content.decode()
    assert "Part <strong>4 of 11</strong>" in page
    assert 'aria-valuenow="4"' in page
    assert content[3].title in page
    shown = drawn(sam, 4)
    assert escape(shown.item.question) in page
    assert f'name="item" value="{shown.item.key}"' in page
    assert 'href="/tutorial/3/"' in page and 'href="/tutorial/5/"' in page
    assert "<fieldset>" in page and "<legend>" in page


def _shown_options(page: str) -> list[str]:
    return re.findall(r'<span class="tut-option-text">([^<]+?)\s*(?:<|$)', page)


def test_it_shows_the_options_in_the_attempts_own_order(sam_client, content) -> None:
    sam = enter(SAM, client=sam_client)
    page = sam_client.get("/tutorial/2/").content.decode()
    shown = drawn(sam, 2)
    assert _shown_options(page) == [escape(text) for text in shown.shown_options()]
    assert sorted(shown.option_order) == list(range(4))
    # A reload and a second browser session show the same question in the same order.
    assert _shown_options(sam_client.get("/tutorial/2/").content.decode()) == _shown_options(page)
    second_tab = rejoin(Client(), sam)
    assert _shown_options(second_tab.get("/tutorial/2/").content.decode()) == _shown_options(page)


def test_it_passes_a_supporter_with_every_answer_right(bob_client, content) -> None:
    client = bob_client
    bob = enter(BOB, client=client)
    answer_all(client)

    response = client.post("/tutorial/submit/")

    assert response.status_code == 302
    assert response["Location"] == "/chat/waiting/"
    bob.refresh_from_db()
    assert bob.qualification == Worker.Qualification.QUALIFIED
    assert bob.qualified_at is not None
    assert bob.stage == Worker.Stage.WAITING
    assert bob.waiting_since is not None
    assert bob.status_code == ""
    attempt = QuizAttempt.objects.get(worker=bob)
    assert (attempt.number, attempt.passed, attempt.wrong_count) == (1, True, 0)
    # The tutorial is over for him: its pages now send him to the waiting room, which links
    # to the review of his answers.
    assert client.get("/tutorial/2/")["Location"] == "/chat/waiting/"
    waiting = client.get("/chat/waiting/").content.decode()
    assert 'href="/tutorial/review/"' in waiting


def test_it_keeps_answers_and_feedback_across_reloads_and_new_sessions(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/tutorial/")
    chosen_right, chosen_wrong = right(sam, 1), wrong(sam, 2)
    post_answer(client, 1, chosen_right)
    post_answer(client, 2, chosen_wrong)

    again = client.get("/tutorial/2/").content.decode()
    assert "Not right." in again
    assert escape(drawn(sam, 2).item.explanation) in again
    assert _chosen(again) == chosen_wrong

    second_tab = rejoin(Client(), sam)  # a new browser session with his link
    page = second_tab.get("/tutorial/1/").content.decode()
    assert _chosen(page) == chosen_right
    assert "Right." in page
    assert '<span id="answered-count">2</span> answered' in page


def _chosen(page: str) -> int:
    """The option the page shows as the worker's answer."""
    match = re.search(r'value="(\d+)" checked', page)
    assert match is not None, "no answer shown"
    return int(match.group(1))


def test_it_counts_the_first_answer_only(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/tutorial/")
    first = wrong(sam, 3)
    post_answer(client, 3, first)

    post_answer(client, 3, right(sam, 3))

    answer = QuizAnswer.objects.get(attempt__worker=sam, subtask=content[2])
    shown = drawn(sam, 3)
    assert answer.option == shown.option_order[first]
    assert answer.item == shown.item
    assert answer.is_correct is False
    page = client.get("/tutorial/3/").content.decode()
    assert "your first answer counts" in page
    assert "disabled" in page


def test_it_refuses_a_missing_or_impossible_option_with_a_linked_error(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    bad_posts = [
        {},
        {"option": ""},
        {"option": "x"},
        {"option": "-1"},
        {"option": "4"},
        {"option": "9"},
        {"option": "\u00b2"},  # a digit to str.isdigit, not to int
        {"option": "\u0663"},  # an Arabic-Indic three
        {"option": "9" * 30},
    ]
    for bad in bad_posts:
        response = client.post("/tutorial/1/", bad)
        assert response.status_code == 400, bad
        page = response.content.decode()
        assert 'aria-describedby="option-error"' in page
        assert 'id="option-error"' in page
    assert not QuizAnswer.objects.filter(attempt__worker=sam).exists()


def test_it_refuses_to_submit_an_incomplete_attempt(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/tutorial/")
    post_answer(client, 1, right(sam, 1))

    response = client.post("/tutorial/submit/")

    assert response.status_code == 400
    assert "10 left" in response.content.decode()
    assert QuizAttempt.objects.get(worker=sam).submitted_at is None


def test_the_review_page_says_right_or_not_and_when_an_attempt_cannot_pass(
    sam_client, content
) -> None:
    enter(SAM, client=sam_client)
    answer_all(sam_client, wrong_parts={2})
    page = sam_client.get("/tutorial/submit/").content.decode()
    assert page.count('<span class="tut-tag tut-tag-ok">Right</span>') == 10
    assert page.count('<span class="tut-tag tut-tag-bad">Not right</span>') == 1
    assert '<strong data-testid="not-right-count">1</strong> was not right' in page
    assert 'data-testid="cannot-pass"' in page  # the default run allows no wrong answer


def test_it_lets_a_failed_supporter_retry_with_empty_answers(frank_client, content) -> None:
    client = frank_client
    frank = enter(FRANK, client=client)
    answer_all(client, wrong_parts={5})

    response = client.post("/tutorial/submit/")

    assert response["Location"] == "/tutorial/result/"
    frank.refresh_from_db()
    assert frank.qualification == Worker.Qualification.IN_TRAINING
    assert frank.stage == Worker.Stage.TUTORIAL
    result = client.get("/tutorial/result/").content.decode()
    assert "<strong>1</strong> attempt left" in result
    assert escape(content[4].title) in result  # which part was not right
    # Until he starts the new attempt, parts send him back to the result.
    assert client.get("/tutorial/1/")["Location"] == "/tutorial/result/"

    assert client.post("/tutorial/retry/")["Location"] == "/tutorial/1/"
    page = client.get("/tutorial/1/").content.decode()
    assert '<span id="answered-count">0</span> answered' in page
    assert "attempt 2 of 2" in page
    assert QuizAttempt.objects.filter(worker=frank).count() == 2


def test_it_fails_for_good_after_the_last_attempt_with_status_00(frank_client, content) -> None:
    client = frank_client
    frank = enter(FRANK, client=client)
    answer_all(client, wrong_parts={1})
    client.post("/tutorial/submit/")
    client.post("/tutorial/retry/")
    answer_all(client, wrong_parts={2, 3})

    response = client.post("/tutorial/submit/")

    assert response["Location"] == "/tutorial/review/"
    frank.refresh_from_db()
    assert frank.qualification == Worker.Qualification.FAILED
    assert frank.status_code == StatusCode.FAILED_TRAINING
    assert frank.stage == Worker.Stage.DONE
    review = client.get("/tutorial/review/").content.decode()
    assert 'href="/done/"' in review and "Get your completion code" in review
    status_page = client.get("/done/").content.decode()
    assert frank.completion_code in status_page
    assert QuizAttempt.objects.get(worker=frank, number=2).wrong_count == 2


def test_it_follows_the_runs_pass_rule(bob_client, content, run) -> None:
    run.quiz_max_wrong = 2
    run.quiz_max_attempts = 1
    run.save()
    client = bob_client
    bob = enter(BOB, client=client)
    answer_all(client, wrong_parts={1, 11})
    assert 'data-testid="cannot-pass"' not in client.get("/tutorial/submit/").content.decode()

    client.post("/tutorial/submit/")

    bob.refresh_from_db()
    assert bob.is_qualified
    assert QuizAttempt.objects.get(worker=bob).wrong_count == 2


def test_it_sends_seekers_and_strangers_away(alice_client, content) -> None:
    seeker_client = alice_client
    alice = enter(ALICE, client=seeker_client)
    assert seeker_client.get("/tutorial/")["Location"] == "/surveys/pre-chat/"
    assert seeker_client.post("/tutorial/1/", {"option": "0"})["Location"] == "/surveys/pre-chat/"
    assert seeker_client.get("/tutorial/review/")["Location"] == "/surveys/pre-chat/"
    assert not QuizAttempt.objects.filter(worker=alice).exists()

    outsider = Client()
    assert outsider.get("/tutorial/").status_code == 403
    assert outsider.post("/tutorial/1/", {"option": "0"}).status_code == 403
    assert outsider.get("/tutorial/review/").status_code == 403


def test_it_shows_a_notice_when_no_content_is_loaded(sam_client) -> None:
    client = sam_client
    enter(SAM, client=client)
    assert client.get("/tutorial/").status_code == 503
    assert client.get("/tutorial/1/").status_code == 503
