"""A supporter works through the eleven parts, answers are kept, and the attempt is graded."""

from __future__ import annotations

from html import escape

import pytest

from crowd.models import StatusCode, Worker
from tests.tutorial.helpers import answer_all, right, wrong
from tutorial.models import QuizAnswer, QuizAttempt

pytestmark = pytest.mark.django_db


def test_it_shows_the_intro_then_one_part_per_page_with_progress(enter, content) -> None:
    client, alice = enter("alice")
    assert alice.stage == Worker.Stage.TUTORIAL

    intro = client.get("/tutorial/").content.decode()
    assert "the order is a guide, not a script" in intro
    assert "never copy the example sentences" in intro
    assert 'href="/tutorial/1/"' in intro

    page = client.get("/tutorial/4/").content.decode()
    assert "Part <strong>4 of 11</strong>" in page
    assert 'aria-valuenow="4"' in page
    assert content[3].title in page
    assert 'href="/tutorial/3/"' in page and 'href="/tutorial/5/"' in page
    assert "<fieldset>" in page and "<legend>" in page


def test_it_passes_a_supporter_with_every_answer_right(enter, content) -> None:
    client, alice = enter("alice")
    answer_all(client, content)

    response = client.post("/tutorial/submit/")

    assert response.status_code == 302
    assert response["Location"] == "/chat/waiting/"
    alice.refresh_from_db()
    assert alice.qualification == Worker.Qualification.QUALIFIED
    assert alice.qualified_at is not None
    assert alice.stage == Worker.Stage.WAITING
    assert alice.waiting_since is not None
    assert alice.status_code == ""
    attempt = QuizAttempt.objects.get(worker=alice)
    assert (attempt.number, attempt.passed, attempt.wrong_count) == (1, True, 0)
    # The tutorial is over for her: its pages now send her to the waiting room.
    assert client.get("/tutorial/2/")["Location"] == "/chat/waiting/"


def test_it_keeps_answers_across_reloads_and_new_sessions(enter, content) -> None:
    client, alice = enter("alice")
    client.post("/tutorial/1/", {"option": str(right(content[0]))})
    client.post("/tutorial/2/", {"option": str(wrong(content[1]))})

    again = client.get("/tutorial/2/").content.decode()
    assert "Not quite." in again
    assert escape(content[1].explanation) in again

    second_tab, same_alice = enter("alice")  # a new browser session with her link
    assert same_alice.pk == alice.pk
    page = second_tab.get("/tutorial/1/").content.decode()
    assert "Correct." in page
    assert '<span id="answered-count">2</span> answered' in page


def test_it_counts_the_first_answer_only(enter, content) -> None:
    client, alice = enter("alice")
    client.post("/tutorial/3/", {"option": str(wrong(content[2]))})

    response = client.post("/tutorial/3/", {"option": str(right(content[2]))})

    assert response.status_code == 302
    answer = QuizAnswer.objects.get(attempt__worker=alice, subtask=content[2])
    assert answer.option == wrong(content[2])
    assert answer.is_correct is False
    page = client.get("/tutorial/3/").content.decode()
    assert "your first answer counts" in page
    assert "disabled" in page


def test_it_refuses_a_missing_or_impossible_option_with_a_linked_error(enter, content) -> None:
    client, alice = enter("alice")
    for bad in ({}, {"option": ""}, {"option": "x"}, {"option": "-1"}, {"option": "9"}):
        response = client.post("/tutorial/1/", bad)
        assert response.status_code == 400, bad
        page = response.content.decode()
        assert 'aria-describedby="option-error"' in page
        assert 'id="option-error"' in page
    assert not QuizAnswer.objects.filter(attempt__worker=alice).exists()


def test_it_refuses_to_submit_an_incomplete_attempt(enter, content) -> None:
    client, alice = enter("alice")
    client.post("/tutorial/1/", {"option": str(right(content[0]))})

    response = client.post("/tutorial/submit/")

    assert response.status_code == 400
    assert "10 left" in response.content.decode()
    assert QuizAttempt.objects.get(worker=alice).submitted_at is None


def test_it_lets_a_failed_supporter_retry_with_empty_answers(enter, content) -> None:
    client, bob = enter("bob")
    answer_all(client, content, wrong_parts=frozenset({5}))

    response = client.post("/tutorial/submit/")

    assert response["Location"] == "/tutorial/result/"
    bob.refresh_from_db()
    assert bob.qualification == Worker.Qualification.IN_TRAINING
    assert bob.stage == Worker.Stage.TUTORIAL
    result = client.get("/tutorial/result/").content.decode()
    assert "<strong>1</strong> attempt left" in result
    # Until he starts the new attempt, parts send him back to the result.
    assert client.get("/tutorial/1/")["Location"] == "/tutorial/result/"

    assert client.post("/tutorial/retry/")["Location"] == "/tutorial/1/"
    page = client.get("/tutorial/1/").content.decode()
    assert '<span id="answered-count">0</span> answered' in page
    assert "attempt 2 of 2" in page
    assert QuizAttempt.objects.filter(worker=bob).count() == 2


def test_it_fails_for_good_after_the_last_attempt_with_status_00(enter, content) -> None:
    client, bob = enter("bob")
    answer_all(client, content, wrong_parts=frozenset({1}))
    client.post("/tutorial/submit/")
    client.post("/tutorial/retry/")
    answer_all(client, content, wrong_parts=frozenset({2, 3}))

    response = client.post("/tutorial/submit/")

    assert response["Location"] == "/done/"
    bob.refresh_from_db()
    assert bob.qualification == Worker.Qualification.FAILED
    assert bob.status_code == StatusCode.FAILED_TRAINING
    assert bob.stage == Worker.Stage.DONE
    status_page = client.get("/done/").content.decode()
    assert bob.completion_code in status_page
    assert QuizAttempt.objects.get(worker=bob, number=2).wrong_count == 2


def test_it_follows_the_runs_pass_rule(enter, content, run) -> None:
    run.quiz_max_wrong = 2
    run.quiz_max_attempts = 1
    run.save()
    client, carol = enter("carol")
    answer_all(client, content, wrong_parts=frozenset({1, 11}))

    client.post("/tutorial/submit/")

    carol.refresh_from_db()
    assert carol.is_qualified
    assert QuizAttempt.objects.get(worker=carol).wrong_count == 2


def test_it_sends_seekers_and_strangers_away(enter, content) -> None:
    seeker_client, sam = enter("sam", role="seeker")
    assert seeker_client.get("/tutorial/")["Location"] == "/surveys/pre-chat/"
    assert seeker_client.post("/tutorial/1/", {"option": "0"})["Location"] == "/surveys/pre-chat/"
    assert not QuizAttempt.objects.filter(worker=sam).exists()

    from django.test import Client

    outsider = Client()
    assert outsider.get("/tutorial/").status_code == 403
    assert outsider.post("/tutorial/1/", {"option": "0"}).status_code == 403


def test_it_shows_a_notice_when_no_content_is_loaded(enter) -> None:
    client, _alice = enter("alice")
    assert client.get("/tutorial/").status_code == 503
    assert client.get("/tutorial/1/").status_code == 503
