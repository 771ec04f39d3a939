"""Migrating to item banks keeps the history: each old question becomes item 1 of its bank."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.cast import FRANK
from tests.crowd.factories import enter

BEFORE = [("tutorial", "0002_tutorialintro_quizattempt_quizanswer_and_more")]
AFTER = [("tutorial", "0004_quiz_item_banks_cleanup")]


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_questions_answers_and_attempts_move_into_item_banks() -> None:
    old = _migrate(BEFORE)
    subtask = old.get_model("tutorial", "SubTask").objects.create(
        order=1,
        kind="strategy",
        key="Restatement or Paraphrasing",
        title="Restating",
        definition="Say it back.",
        example_seeker="s",
        example_supporter="t",
        question="Which reply restates?",
        options=["One", "Two", "Three"],
        correct_option=2,
        explanation="Back in fewer words.",
    )
    worker = enter(FRANK)  # a supporter in training, through the services
    attempt = old.get_model("tutorial", "QuizAttempt").objects.create(worker_id=worker.pk, number=1)
    old.get_model("tutorial", "QuizAnswer").objects.create(
        attempt=attempt, subtask=subtask, option=1, is_correct=False
    )
    try:
        new = _migrate(AFTER)
        item = new.get_model("tutorial", "QuizItem").objects.get()
        assert (item.key, item.position, item.subtask_id) == (
            "restatement-or-paraphrasing-1",
            1,
            subtask.pk,
        )
        assert (item.question, item.options, item.correct_option) == (
            "Which reply restates?",
            ["One", "Two", "Three"],
            2,
        )
        answer = new.get_model("tutorial", "QuizAnswer").objects.get()
        assert (answer.item_id, answer.option, answer.is_correct) == (item.pk, 1, False)
        shown = new.get_model("tutorial", "AttemptItem").objects.get()
        assert (shown.attempt_id, shown.item_id, shown.option_order) == (
            attempt.pk,
            item.pk,
            [0, 1, 2],
        )

        back = _migrate(BEFORE)
        restored = back.get_model("tutorial", "SubTask").objects.get()
        assert (restored.question, restored.options, restored.correct_option) == (
            "Which reply restates?",
            ["One", "Two", "Three"],
            2,
        )
    finally:
        _migrate(AFTER)
