"""Supporters trained through the tutorial services: the quiz answered, submitted, graded.

`tutorial.services.answer_question` grades each answer and `submit_attempt` passes the
supporter (qualified, into the waiting room) or, on the last attempt, fails them for good
(status 00). The content is the real tutorial (tutorial/content), loaded if none is there yet;
a test that made its own sub-tasks is quizzed on those, with the file's item banks for them.
Page-level answering (form posts) is in tests/tutorial/helpers.py.
"""

from __future__ import annotations

from collections.abc import Collection

from django.test import Client

from crowd.models import CollectionRun, Worker
from tests.cast import Actor
from tests.crowd.factories import enter
from tutorial import services
from tutorial.models import AttemptItem, SubTask


def load_content() -> list[SubTask]:
    """The tutorial's sub-tasks, loaded from the real content file when none exist yet.

    Sub-tasks a test made itself keep their text and get the file's quiz items (by key).
    """
    services.load_content_file(if_empty=True)
    return list(SubTask.objects.order_by("order"))


def _place(drawn: AttemptItem, *, right: bool) -> int:
    """Where the right option (or the one after it) appears on the worker's page."""
    place = drawn.shown_position(drawn.item.correct_option)
    return place if right else (place + 1) % len(drawn.option_order)


def answer(
    worker: Worker, wrong_parts: Collection[int] = (), *, parts: Collection[int] | None = None
) -> None:
    """Answer the open attempt's questions (1-based `parts`, default all); `wrong_parts` wrong."""
    load_content()
    attempt = services.open_first_attempt(worker)
    shown = attempt.drawn.select_related("item", "subtask").order_by("subtask__order")
    for number, drawn in enumerate(shown, start=1):
        if parts is None or number in parts:
            services.answer_question(
                worker, drawn.subtask, _place(drawn, right=number not in wrong_parts)
            )


def take_attempt(worker: Worker, wrong_parts: Collection[int] = ()) -> services.SubmitResult:
    """Answer every question of the open attempt and submit it."""
    answer(worker, wrong_parts)
    return services.submit_attempt(worker)


def pass_training(worker: Worker) -> Worker:
    """Every answer right: the supporter is qualified and waits for a seeker."""
    result = take_attempt(worker)
    assert result.passed, result
    worker.refresh_from_db()
    assert worker.is_qualified_supporter and worker.stage == Worker.Stage.WAITING
    return worker


def fail_training(worker: Worker, wrong_parts: Collection[int] = (1,)) -> Worker:
    """Fail every attempt the run allows: status 00 and the status page."""
    while True:
        result = take_attempt(worker, wrong_parts)
        assert not result.passed, result
        if result.attempts_left == 0:
            break
        services.start_next_attempt(worker)
    worker.refresh_from_db()
    assert worker.qualification == Worker.Qualification.FAILED
    return worker


def trained_supporter(
    actor: Actor,
    run: CollectionRun | None = None,
    *,
    client: Client | None = None,
    mturk: bool = False,
) -> Worker:
    """The supporter enters, consents and passes the training: qualified, in the waiting room."""
    return pass_training(enter(actor, run, client=client, mturk=mturk))


def trainee(
    actor: Actor, run: CollectionRun | None = None, *, client: Client | None = None
) -> Worker:
    """The supporter enters and consents: in training, at the tutorial (like Sam)."""
    worker = enter(actor, run, client=client)
    assert worker.is_in_training
    return worker


def failed_supporter(
    actor: Actor, run: CollectionRun | None = None, *, client: Client | None = None
) -> Worker:
    """The supporter enters, consents and fails the training for good (like Frank): 00."""
    return fail_training(enter(actor, run, client=client))
