"""Writes of the training tutorial: opening attempts (with their draws), answering, submitting.

Grading happens here, on the server, only. The rules (docs/workers.md, "Grading rules"):

- An attempt is a pass through all sub-tasks. When it opens it draws one active item per
  sub-task from the sub-task's bank, preferring items the worker has never been shown (never
  the previous attempt's, when the bank has another), and a random order of its options. The
  draw is stored (`AttemptItem`), so reloads and other tabs show the same.
- The first answer to a question in an attempt counts; it cannot be changed afterwards. The
  worker then learns whether it was right and reads the explanation, never the right option.
- An attempt is submitted only when every question is answered; it passes when the number of
  wrong answers is at most `run.quiz_max_wrong`.
- A worker has at most `run.quiz_max_attempts` attempts. Attempts are rows numbered 1..N with a
  unique (worker, number) constraint, so neither a second tab nor a new session can open an
  extra one; submission flips `submitted_at` with a conditional UPDATE, so two tabs submitting
  at once grade the attempt exactly once.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crowd import services as crowd_services
from crowd.models import Worker
from tutorial.content import (  # noqa: F401  (the content API, re-exported for callers)
    DEFAULT_CONTENT_PATH,
    ContentError,
    LoadResult,
    load_content,
    load_content_file,
    parse_content,
)
from tutorial.models import AttemptItem, QuizAnswer, QuizAttempt, QuizItem, SubTask

# Draws and option orders must not be predictable from earlier ones: the OS's randomness.
_random = random.SystemRandom()


# --- Errors ---------------------------------------------------------------------------------


class TutorialError(Exception):
    """A request the tutorial refuses; the message is safe to show to the worker."""


class NotInTraining(TutorialError):
    """The worker is not a supporter currently in the tutorial stage."""


class TutorialUnavailable(TutorialError):
    """No content has been loaded yet, or a sub-task has no active quiz item."""


class InvalidAnswer(TutorialError):
    """The chosen option is not one of the shown question's options."""


class AlreadyAnswered(TutorialError):
    """The question was already answered in this attempt (the first answer counts)."""


class StaleQuestion(TutorialError):
    """The answer was for another question than the one this attempt shows (an old page)."""


class AttemptClosed(TutorialError):
    """The attempt was submitted (perhaps from another tab)."""


class AttemptIncomplete(TutorialError):
    """Some questions are still unanswered."""


class NoAttemptsLeft(TutorialError):
    """The worker used every attempt the run allows."""


# --- Drawing an attempt's items -------------------------------------------------------------


def _pick(bank: list[QuizItem], seen: set[int], previous: set[int]) -> QuizItem:
    """A random item, never shown to this worker if possible, else not the previous attempt's."""
    never_seen = [item for item in bank if item.pk not in seen]
    not_previous = [item for item in bank if item.pk not in previous]
    return _random.choice(never_seen or not_previous or bank)


def _draw(attempt: QuizAttempt) -> None:
    """Store, for every sub-task without one yet, the attempt's item and its option order."""
    drawn = set(attempt.drawn.values_list("subtask_id", flat=True))
    earlier = AttemptItem.objects.filter(
        attempt__worker_id=attempt.worker_id, attempt__number__lt=attempt.number
    ).values_list("subtask_id", "item_id", "attempt__number")
    seen: defaultdict[int, set[int]] = defaultdict(set)
    previous: defaultdict[int, set[int]] = defaultdict(set)
    for subtask_id, item_id, number in earlier:
        seen[subtask_id].add(item_id)
        if number == attempt.number - 1:
            previous[subtask_id].add(item_id)
    banks: defaultdict[int, list[QuizItem]] = defaultdict(list)
    for item in QuizItem.objects.filter(is_active=True).order_by("pk"):
        banks[item.subtask_id].append(item)
    new = []
    for subtask_id in SubTask.objects.exclude(pk__in=drawn).values_list("pk", flat=True):
        if not banks[subtask_id]:
            raise TutorialUnavailable("The training is not available yet.")
        item = _pick(banks[subtask_id], seen[subtask_id], previous[subtask_id])
        order = _random.sample(range(len(item.options)), len(item.options))
        new.append(
            AttemptItem(attempt=attempt, subtask_id=subtask_id, item=item, option_order=order)
        )
    AttemptItem.objects.bulk_create(new)


def _create_attempt(worker: Worker, number: int) -> QuizAttempt:
    """Attempt `number` with its draw, or the one another tab created a moment ago."""
    try:
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(worker=worker, number=number)
            _draw(attempt)
            return attempt
    except IntegrityError:
        return QuizAttempt.objects.get(worker=worker, number=number)


# --- The quiz -------------------------------------------------------------------------------


def check_in_training(worker: Worker) -> None:
    if worker.is_in_training:
        return
    if not worker.is_supporter:
        raise NotInTraining("Only supporters take the training.")
    raise NotInTraining("You are not in the training stage.")


def open_first_attempt(worker: Worker) -> QuizAttempt:
    """The worker's open attempt; the first one is created (and drawn) on their first visit."""
    check_in_training(worker)
    attempt = worker.quiz_attempts.filter(submitted_at__isnull=True).order_by("-number").first()
    if attempt is None:
        if worker.quiz_attempts.exists():
            raise AttemptClosed("Your attempt was submitted.")
        return _create_attempt(worker, 1)
    if attempt.drawn.count() < SubTask.objects.count():
        # Sub-tasks loaded after the attempt opened get their items now.
        with transaction.atomic():
            locked = QuizAttempt.objects.select_for_update().get(pk=attempt.pk)
            _draw(locked)
    return attempt


def _parse_position(option: Any, drawn: AttemptItem) -> int:
    if isinstance(option, bool) or not isinstance(option, int):
        raise InvalidAnswer("Choose one of the options.")
    if not 0 <= option < len(drawn.option_order):
        raise InvalidAnswer(
            f"Option {option} does not exist; choose 0 to {len(drawn.option_order) - 1}."
        )
    return option


def answer_question(
    worker: Worker, subtask: SubTask, option: Any, *, item_key: str | None = None
) -> QuizAnswer:
    """Grade the worker's first answer to one question of their open attempt.

    `option` is a place in the shown (shuffled) list of options; `item_key`, when given, is the
    item the worker's page showed, so an answer from a page of an earlier attempt is refused
    instead of being counted against another question.
    """
    check_in_training(worker)
    with transaction.atomic():
        attempt = open_first_attempt(worker)
        # Lock the attempt so a submission in another tab cannot slip between check and insert.
        attempt = QuizAttempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.is_open:
            raise AttemptClosed("This attempt was already submitted.")
        drawn = attempt.drawn.select_related("item").get(subtask=subtask)
        if item_key is not None and item_key != drawn.item.key:
            raise StaleQuestion(
                "This question is no longer the one in your attempt; reload the page."
            )
        chosen = drawn.option_order[_parse_position(option, drawn)]
        try:
            with transaction.atomic():
                return QuizAnswer.objects.create(
                    attempt=attempt,
                    subtask=subtask,
                    item=drawn.item,
                    option=chosen,
                    is_correct=chosen == drawn.item.correct_option,
                )
        except IntegrityError:
            raise AlreadyAnswered(
                "You already answered this question; your first answer counts."
            ) from None


@dataclass(frozen=True)
class SubmitResult:
    attempt: QuizAttempt
    passed: bool
    attempts_left: int


def _attempts_left(worker: Worker) -> int:
    used = worker.quiz_attempts.filter(submitted_at__isnull=False).count()
    return max(worker.run.quiz_max_attempts - used, 0)


def _grade(locked: Worker, attempt: QuizAttempt) -> tuple[bool, int]:
    """Close the attempt with its grade; (passed, attempts left)."""
    total = attempt.drawn.count()
    answers = list(attempt.answers.all())
    if len(answers) < total:
        left = total - len(answers)
        raise AttemptIncomplete(f"Please answer every question first ({left} left).")
    wrong = sum(1 for answer in answers if not answer.is_correct)
    passed = wrong <= locked.run.quiz_max_wrong
    claimed = QuizAttempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
        submitted_at=timezone.now(), wrong_count=wrong, passed=passed
    )
    if not claimed:
        raise AttemptClosed("This attempt was already submitted.")
    return passed, _attempts_left(locked)


def submit_attempt(worker: Worker) -> SubmitResult:
    """Grade the open attempt; qualify the worker, or fail them for good on the last attempt."""
    check_in_training(worker)
    if not SubTask.objects.exists():
        raise TutorialUnavailable("The training is not available yet.")
    with transaction.atomic():
        # One submission per worker at a time: the row lock serializes tabs (PostgreSQL);
        # SQLite's IMMEDIATE transactions serialize all writers anyway.
        locked = (
            Worker.objects.select_for_update(of=("self",)).select_related("run").get(pk=worker.pk)
        )
        check_in_training(locked)
        attempt = locked.quiz_attempts.filter(submitted_at__isnull=True).first()
        if attempt is None:
            raise AttemptClosed("This attempt was already submitted.")
        passed, attempts_left = _grade(locked, attempt)
        if passed:
            Worker.objects.filter(pk=locked.pk).update(
                qualification=Worker.Qualification.QUALIFIED, qualified_at=timezone.now()
            )
            crowd_services.enter_waiting_room(locked)
        elif attempts_left == 0:
            Worker.objects.filter(pk=locked.pk).update(qualification=Worker.Qualification.FAILED)
            crowd_services.finish_worker(
                locked, crowd_services.TaskOutcome.FAILED_TRAINING, post_survey=False
            )
    worker.refresh_from_db()
    attempt.refresh_from_db()
    return SubmitResult(attempt=attempt, passed=passed, attempts_left=attempts_left)


def start_next_attempt(worker: Worker) -> QuizAttempt:
    """Open a new attempt, with fresh items and option orders, within the run's limit."""
    check_in_training(worker)
    with transaction.atomic():
        locked = (
            Worker.objects.select_for_update(of=("self",)).select_related("run").get(pk=worker.pk)
        )
        check_in_training(locked)
        open_attempt = locked.quiz_attempts.filter(submitted_at__isnull=True).first()
        if open_attempt is not None:
            return open_attempt  # another tab already started it
        used = locked.quiz_attempts.count()
        if used >= locked.run.quiz_max_attempts:
            raise NoAttemptsLeft("You have used every attempt.")
        # The unique (worker, number) constraint is the last line of defence.
        return _create_attempt(locked, used + 1)
