"""Attempts are counted in the database: no retake beyond the limit, from any tab or session."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from crowd.models import StatusCode, Worker
from tests.tutorial.helpers import answer_all, right
from tutorial import services
from tutorial.models import QuizAnswer, QuizAttempt


def _fail_for_good(enter, content) -> tuple[Any, Worker]:
    client, bob = enter("bob")
    for _ in range(2):
        answer_all(client, content, wrong_parts=frozenset({4}))
        client.post("/tutorial/submit/")
        client.post("/tutorial/retry/")
    bob.refresh_from_db()
    return client, bob


@pytest.mark.django_db
def test_it_refuses_a_retake_after_the_last_attempt_from_any_session(enter, content) -> None:
    _client, bob = _fail_for_good(enter, content)
    assert bob.status_code == StatusCode.FAILED_TRAINING

    new_tab, same_bob = enter("bob")  # a new session from his study link
    assert new_tab.get("/tutorial/")["Location"] == "/done/"
    assert new_tab.post("/tutorial/retry/")["Location"] == "/done/"
    assert new_tab.post("/tutorial/1/", {"option": "0"})["Location"] == "/done/"
    assert new_tab.post("/tutorial/submit/")["Location"] == "/done/"
    assert (
        new_tab.post(
            "/api/tutorial/1/answer/", {"option": 0}, content_type="application/json"
        ).status_code
        == 403
    )
    with pytest.raises(services.NotInTraining):
        services.start_next_attempt(same_bob)
    assert QuizAttempt.objects.filter(worker=bob).count() == 2
    same_bob.refresh_from_db()
    assert same_bob.qualification == Worker.Qualification.FAILED


@pytest.mark.django_db
def test_it_never_opens_more_attempts_than_the_run_allows(enter, content, run) -> None:
    run.quiz_max_attempts = 3
    run.save()
    client, bob = enter("bob")
    for _ in range(3):
        answer_all(client, content, wrong_parts=frozenset({1}))
        client.post("/tutorial/submit/")
        bob.refresh_from_db()
        if bob.stage == Worker.Stage.TUTORIAL:
            services.start_next_attempt(bob)
            services.start_next_attempt(bob)  # a second tab: returns the same open attempt
    assert list(QuizAttempt.objects.filter(worker=bob).values_list("number", flat=True)) == [
        1,
        2,
        3,
    ]
    assert bob.status_code == StatusCode.FAILED_TRAINING


def _race(worker_pk: int, action: Callable[[Worker], Any], tabs: int = 4) -> list[Any]:
    barrier = threading.Barrier(tabs)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def tab() -> None:
        try:
            worker = Worker.objects.select_related("run").get(pk=worker_pk)
            barrier.wait()
            try:
                outcome: Any = action(worker)
            except services.TutorialError as exc:
                outcome = exc
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_it_grades_an_attempt_once_when_tabs_submit_together(enter, content) -> None:
    client, bob = enter("bob")
    answer_all(client, content, wrong_parts=frozenset({2}))

    outcomes = _race(bob.pk, services.submit_attempt)

    graded = [o for o in outcomes if isinstance(o, services.SubmitResult)]
    assert len(outcomes) == 4
    assert len(graded) == 1, outcomes
    assert all(isinstance(o, services.AttemptClosed) for o in outcomes if o not in graded)
    assert graded[0].attempts_left == 1
    bob.refresh_from_db()
    assert bob.stage == Worker.Stage.TUTORIAL and bob.status_code == ""


@pytest.mark.django_db(transaction=True)
def test_it_opens_one_new_attempt_when_tabs_retry_together(enter, content) -> None:
    client, bob = enter("bob")
    answer_all(client, content, wrong_parts=frozenset({2}))
    client.post("/tutorial/submit/")

    outcomes = _race(bob.pk, services.start_next_attempt)

    assert len(outcomes) == 4
    assert {o.pk for o in outcomes if isinstance(o, QuizAttempt)} == {
        QuizAttempt.objects.get(worker=bob, number=2).pk
    }
    assert QuizAttempt.objects.filter(worker=bob).count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_answer_when_tabs_answer_together(enter, content) -> None:
    client, alice = enter("alice")
    client.get("/tutorial/")  # opens attempt 1

    outcomes = _race(alice.pk, lambda w: services.answer_question(w, content[0], right(content[0])))

    assert len([o for o in outcomes if isinstance(o, QuizAnswer)]) == 1
    assert all(
        isinstance(o, services.AlreadyAnswered) for o in outcomes if not isinstance(o, QuizAnswer)
    )
    assert QuizAnswer.objects.filter(attempt__worker=alice).count() == 1
