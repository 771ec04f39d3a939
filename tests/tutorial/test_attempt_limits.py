"""Attempts are counted in the database: no retake beyond the limit, from any tab or session."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from crowd.models import StatusCode, Worker
from tests.cast import FRANK, SAM
from tests.crowd.factories import enter, rejoin
from tests.tutorial.helpers import answer_all, right
from tutorial import services
from tutorial.models import AttemptItem, QuizAnswer, QuizAttempt


def _fail_for_good(client: Client) -> Worker:
    frank = enter(FRANK, client=client)
    for _ in range(2):
        answer_all(client, wrong_parts={4})
        client.post("/tutorial/submit/")
        client.post("/tutorial/retry/")
    frank.refresh_from_db()
    return frank


@pytest.mark.django_db
def test_it_refuses_a_retake_after_the_last_attempt_from_any_session(frank_client, content) -> None:
    frank = _fail_for_good(frank_client)
    assert frank.status_code == StatusCode.FAILED_TRAINING

    new_tab = rejoin(Client(), frank)  # a new session from his study link
    same_frank = Worker.objects.get(pk=frank.pk)
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
        services.start_next_attempt(same_frank)
    assert QuizAttempt.objects.filter(worker=frank).count() == 2
    same_frank.refresh_from_db()
    assert same_frank.qualification == Worker.Qualification.FAILED


@pytest.mark.django_db
def test_it_never_opens_more_attempts_than_the_run_allows(frank_client, content, run) -> None:
    run.quiz_max_attempts = 3
    run.save()
    client = frank_client
    frank = enter(FRANK, client=client)
    for _ in range(3):
        answer_all(client, wrong_parts={1})
        client.post("/tutorial/submit/")
        frank.refresh_from_db()
        if frank.stage == Worker.Stage.TUTORIAL:
            services.start_next_attempt(frank)
            services.start_next_attempt(frank)  # a second tab: returns the same open attempt
    assert list(QuizAttempt.objects.filter(worker=frank).values_list("number", flat=True)) == [
        1,
        2,
        3,
    ]
    assert frank.status_code == StatusCode.FAILED_TRAINING


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
def test_it_grades_an_attempt_once_when_tabs_submit_together(frank_client, content) -> None:
    client = frank_client
    frank = enter(FRANK, client=client)
    answer_all(client, wrong_parts={2})

    outcomes = _race(frank.pk, services.submit_attempt)

    graded = [o for o in outcomes if isinstance(o, services.SubmitResult)]
    assert len(outcomes) == 4
    assert len(graded) == 1, outcomes
    assert all(isinstance(o, services.AttemptClosed) for o in outcomes if o not in graded)
    assert graded[0].attempts_left == 1
    frank.refresh_from_db()
    assert frank.stage == Worker.Stage.TUTORIAL and frank.status_code == ""


@pytest.mark.django_db(transaction=True)
def test_it_opens_one_new_attempt_when_tabs_retry_together(frank_client, content) -> None:
    client = frank_client
    frank = enter(FRANK, client=client)
    answer_all(client, wrong_parts={2})
    client.post("/tutorial/submit/")

    outcomes = _race(frank.pk, services.start_next_attempt)

    assert len(outcomes) == 4
    assert {o.pk for o in outcomes if isinstance(o, QuizAttempt)} == {
        QuizAttempt.objects.get(worker=frank, number=2).pk
    }
    assert QuizAttempt.objects.filter(worker=frank).count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_answer_when_tabs_answer_together(sam_client, content) -> None:
    client = sam_client
    sam = enter(SAM, client=client)
    client.get("/tutorial/")  # opens attempt 1
    place = right(sam, 1)

    outcomes = _race(sam.pk, lambda w: services.answer_question(w, content[0], place))

    assert len([o for o in outcomes if isinstance(o, QuizAnswer)]) == 1
    assert all(
        isinstance(o, services.AlreadyAnswered) for o in outcomes if not isinstance(o, QuizAnswer)
    )
    assert QuizAnswer.objects.filter(attempt__worker=sam).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_draws_one_first_attempt_when_tabs_open_it_together(sam_client, content) -> None:
    sam = enter(SAM, client=sam_client)

    outcomes = _race(sam.pk, services.open_first_attempt)

    assert {o.pk for o in outcomes if isinstance(o, QuizAttempt)} == {
        QuizAttempt.objects.get(worker=sam).pk
    }
    # One draw per part, whichever tab won: never a second set of items for the same attempt.
    assert AttemptItem.objects.filter(attempt__worker=sam).count() == 11
