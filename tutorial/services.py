"""Writes of the training tutorial: loading its content, answering, submitting and retrying.

Grading happens here, on the server, only. The rules:

- An attempt is a pass through all sub-tasks. The first answer to a question in an attempt
  counts; it cannot be changed afterwards (the explanation is shown right after answering).
- An attempt is submitted only when every question is answered; it passes when the number of
  wrong answers is at most `run.quiz_max_wrong`.
- A worker has at most `run.quiz_max_attempts` attempts. Attempts are rows numbered 1..N with a
  unique (worker, number) constraint, so neither a second tab nor a new session can open an
  extra one; submission flips `submitted_at` with a conditional UPDATE, so two tabs submitting
  at once grade the attempt exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from crowd import services as crowd_services
from crowd import vocabulary
from crowd.models import Worker
from tutorial.models import QuizAnswer, QuizAttempt, SubTask, TutorialIntro

DEFAULT_CONTENT_PATH = Path(settings.BASE_DIR) / "tutorial" / "content" / "esc_framework.yaml"


# --- Errors ---------------------------------------------------------------------------------


class TutorialError(Exception):
    """A request the tutorial refuses; the message is safe to show to the worker."""


class NotInTraining(TutorialError):
    """The worker is not a supporter currently in the tutorial stage."""


class TutorialUnavailable(TutorialError):
    """No content has been loaded yet."""


class InvalidAnswer(TutorialError):
    """The chosen option is not one of the question's options."""


class AlreadyAnswered(TutorialError):
    """The question was already answered in this attempt (the first answer counts)."""


class AttemptClosed(TutorialError):
    """The attempt was submitted (perhaps from another tab)."""


class AttemptIncomplete(TutorialError):
    """Some questions are still unanswered."""


class NoAttemptsLeft(TutorialError):
    """The worker used every attempt the run allows."""


class ContentError(ValueError):
    """The tutorial content file is unusable; the message names the item and the field."""


# --- Content ----------------------------------------------------------------------------------

_INTRO_FIELDS = {"heading", "body"}
_SUBTASK_FIELDS = {
    "key",
    "kind",
    "title",
    "definition",
    "example",
    "question",
    "options",
    "answer",
    "explanation",
}
_EXAMPLE_FIELDS = {"seeker", "supporter"}


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    skipped: bool = False


def _text(value: Any, where: str, field: str, *, max_length: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{where}: field '{field}' must be a non-empty text")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise ContentError(f"{where}: field '{field}' is longer than {max_length} characters")
    return text


def _check_fields(item: Any, where: str, expected: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ContentError(f"{where}: must be a mapping of fields")
    missing = expected - set(item)
    if missing:
        raise ContentError(f"{where}: missing field '{sorted(missing)[0]}'")
    unknown = set(item) - expected
    if unknown:
        raise ContentError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    return item


def parse_content(data: Any) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Validate raw content (parsed YAML); return the intro fields and SubTask field dicts."""
    root = _check_fields(data, "content", {"intro", "subtasks"})
    intro_raw = _check_fields(root["intro"], "intro", _INTRO_FIELDS)
    intro = {
        "heading": _text(intro_raw["heading"], "intro", "heading", max_length=200),
        "body": _text(intro_raw["body"], "intro", "body"),
    }
    items = root["subtasks"]
    if not isinstance(items, list) or not items:
        raise ContentError("content: field 'subtasks' must be a non-empty list")

    stage_keys = {stage.key for stage in vocabulary.STAGES}
    strategy_names = set(vocabulary.STRATEGY_NAMES)
    seen: set[str] = set()
    subtasks: list[dict[str, Any]] = []
    for position, raw in enumerate(items, start=1):
        label = raw.get("key") if isinstance(raw, dict) else None
        where = f"sub-task {position}" + (f" ({label!r})" if isinstance(label, str) else "")
        item = _check_fields(raw, where, _SUBTASK_FIELDS)
        key = _text(item["key"], where, "key", max_length=64)
        kind = item["kind"]
        if kind == SubTask.Kind.STAGE:
            if key not in stage_keys:
                raise ContentError(
                    f"{where}: field 'key' {key!r} is not a stage key "
                    f"(expected one of {sorted(stage_keys)})"
                )
        elif kind == SubTask.Kind.STRATEGY:
            if key not in strategy_names:
                raise ContentError(
                    f"{where}: field 'key' {key!r} is not a strategy name "
                    f"(expected one of {sorted(strategy_names)})"
                )
        else:
            raise ContentError(f"{where}: field 'kind' must be 'stage' or 'strategy'")
        if key in seen:
            raise ContentError(f"{where}: field 'key' {key!r} appears more than once")
        seen.add(key)

        example = _check_fields(item["example"], f"{where} example", _EXAMPLE_FIELDS)
        options = item["options"]
        if not isinstance(options, list) or not 3 <= len(options) <= 4:
            raise ContentError(f"{where}: field 'options' must be a list of 3 or 4 texts")
        clean_options = [_text(option, where, f"options[{i}]") for i, option in enumerate(options)]
        if len(set(clean_options)) != len(clean_options):
            raise ContentError(f"{where}: field 'options' has the same option twice")
        answer = item["answer"]
        # bool is an int in Python; `answer: true` is a typo, not option 1.
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ContentError(f"{where}: field 'answer' must be the 0-based index of an option")
        if not 0 <= answer < len(clean_options):
            raise ContentError(
                f"{where}: field 'answer' is {answer}, but options are numbered "
                f"0 to {len(clean_options) - 1}"
            )
        subtasks.append(
            {
                "key": key,
                "order": position,
                "kind": kind,
                "title": _text(item["title"], where, "title", max_length=120),
                "definition": _text(item["definition"], where, "definition"),
                "example_seeker": _text(example["seeker"], f"{where} example", "seeker"),
                "example_supporter": _text(example["supporter"], f"{where} example", "supporter"),
                "question": _text(item["question"], where, "question"),
                "options": clean_options,
                "correct_option": answer,
                "explanation": _text(item["explanation"], where, "explanation"),
            }
        )

    missing = (stage_keys | strategy_names) - seen
    if missing:
        raise ContentError(f"content: no sub-task for {sorted(missing)[0]!r}")
    return intro, subtasks


def read_content_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContentError(f"{path} is not valid YAML: {exc}") from exc


@transaction.atomic
def load_content(data: Any, *, if_empty: bool = False) -> LoadResult:
    """Create or update the intro and the sub-tasks by key, all or nothing."""
    if if_empty and SubTask.objects.exists():
        return LoadResult(created=0, updated=0, skipped=True)
    intro, subtasks = parse_content(data)

    current = TutorialIntro.objects.order_by("pk").first()
    if current is None:
        TutorialIntro.objects.create(**intro)
    else:
        TutorialIntro.objects.filter(pk=current.pk).update(**intro, updated_at=timezone.now())

    # Move existing rows out of the way first, so reordering cannot hit the unique `order`.
    offset = 100_000
    for pk, order in SubTask.objects.values_list("pk", "order"):
        SubTask.objects.filter(pk=pk).update(order=order + offset)
    created = updated = 0
    for fields in subtasks:
        key = fields.pop("key")
        _, was_created = SubTask.objects.update_or_create(key=key, defaults=fields)
        created += was_created
        updated += not was_created
    leftovers = SubTask.objects.filter(order__gte=offset)
    if leftovers.exists():
        # Keys come from the vocabulary, so this only happens if it changed under old data.
        raise ContentError(
            f"content: existing sub-task {leftovers.first().key!r} is not in the file"  # type: ignore[union-attr]
        )
    return LoadResult(created=created, updated=updated)


def load_content_file(path: Path = DEFAULT_CONTENT_PATH, *, if_empty: bool = False) -> LoadResult:
    if if_empty and SubTask.objects.exists():
        return LoadResult(created=0, updated=0, skipped=True)
    return load_content(read_content_file(path), if_empty=if_empty)


# --- The quiz -------------------------------------------------------------------------------


def check_in_training(worker: Worker) -> None:
    if worker.is_in_training:
        return
    if not worker.is_supporter:
        raise NotInTraining("Only supporters take the training.")
    raise NotInTraining("You are not in the training stage.")


def open_first_attempt(worker: Worker) -> QuizAttempt:
    """The worker's open attempt; the first one is created on their first visit."""
    check_in_training(worker)
    attempt = worker.quiz_attempts.filter(submitted_at__isnull=True).order_by("-number").first()
    if attempt is not None:
        return attempt
    if worker.quiz_attempts.exists():
        raise AttemptClosed("Your attempt was submitted.")
    try:
        with transaction.atomic():
            return QuizAttempt.objects.create(worker=worker, number=1)
    except IntegrityError:
        # Another tab created it a moment ago.
        return QuizAttempt.objects.get(worker=worker, number=1)


def answer_question(worker: Worker, subtask: SubTask, option: Any) -> QuizAnswer:
    """Grade the worker's first answer to one question in their open attempt."""
    check_in_training(worker)
    if isinstance(option, bool) or not isinstance(option, int):
        raise InvalidAnswer("Choose one of the options.")
    if not 0 <= option < len(subtask.options):
        raise InvalidAnswer(
            f"Option {option} does not exist; choose 0 to {len(subtask.options) - 1}."
        )
    with transaction.atomic():
        attempt = open_first_attempt(worker)
        # Lock the attempt so a submission in another tab cannot slip between check and insert.
        attempt = QuizAttempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.is_open:
            raise AttemptClosed("This attempt was already submitted.")
        try:
            with transaction.atomic():
                return QuizAnswer.objects.create(
                    attempt=attempt,
                    subtask=subtask,
                    option=option,
                    is_correct=option == subtask.correct_option,
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


def submit_attempt(worker: Worker) -> SubmitResult:
    """Grade the open attempt; qualify the worker, or fail them for good on the last attempt."""
    check_in_training(worker)
    total = SubTask.objects.count()
    if total == 0:
        raise TutorialUnavailable("The training is not available yet.")
    with transaction.atomic():
        # One submission per worker at a time: the row lock serializes tabs (PostgreSQL);
        # SQLite's IMMEDIATE transactions serialize all writers anyway.
        locked = Worker.objects.select_for_update().select_related("run").get(pk=worker.pk)
        check_in_training(locked)
        attempt = locked.quiz_attempts.filter(submitted_at__isnull=True).first()
        if attempt is None:
            raise AttemptClosed("This attempt was already submitted.")
        answers = list(attempt.answers.all())
        if len(answers) < total:
            raise AttemptIncomplete(
                f"Please answer every question first ({total - len(answers)} left)."
            )
        wrong = sum(1 for answer in answers if not answer.is_correct)
        passed = wrong <= locked.run.quiz_max_wrong
        claimed = QuizAttempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
            submitted_at=timezone.now(), wrong_count=wrong, passed=passed
        )
        if not claimed:
            raise AttemptClosed("This attempt was already submitted.")
        attempts_left = _attempts_left(locked)
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
    """Open a new attempt (answers start empty) after a failed one, within the run's limit."""
    check_in_training(worker)
    with transaction.atomic():
        locked = Worker.objects.select_for_update().select_related("run").get(pk=worker.pk)
        check_in_training(locked)
        open_attempt = locked.quiz_attempts.filter(submitted_at__isnull=True).first()
        if open_attempt is not None:
            return open_attempt  # another tab already started it
        used = locked.quiz_attempts.count()
        if used >= locked.run.quiz_max_attempts:
            raise NoAttemptsLeft("You have used every attempt.")
        try:
            with transaction.atomic():
                return QuizAttempt.objects.create(worker=locked, number=used + 1)
        except IntegrityError:
            # Defensive: the unique (worker, number) constraint is the last line of defence.
            return QuizAttempt.objects.get(worker=locked, number=used + 1)
