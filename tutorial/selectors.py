"""Reads of the training tutorial: what a worker may see, the gate, and the admins' funnel.

`public_subtask` is the only place that turns a SubTask into something shown to a worker (HTML
or API). It carries the worker's own answer and never the correct option, the grade or the
explanation: any of them would tell a worker who may still answer (in this attempt or the next,
or under another study id) which option is right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from tutorial.models import QuizAnswer, QuizAttempt, SubTask, TutorialIntro


def intro() -> TutorialIntro | None:
    return TutorialIntro.objects.order_by("pk").first()


def subtasks() -> list[SubTask]:
    return list(SubTask.objects.order_by("order"))


@dataclass(frozen=True)
class Revealed:
    """What the worker sees after answering: the option they chose, and nothing of the key."""

    option: int


@dataclass(frozen=True)
class PublicSubTask:
    number: int  # 1-based position shown to the worker ("4 of 11")
    key: str
    kind: str
    title: str
    definition: str
    example_seeker: str
    example_supporter: str
    question: str
    options: list[str]
    answer: Revealed | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "definition": self.definition,
            "example": {"seeker": self.example_seeker, "supporter": self.example_supporter},
            "question": self.question,
            "options": list(self.options),
            "answer": None if self.answer is None else {"option": self.answer.option},
        }


def public_subtask(subtask: SubTask, number: int, answer: QuizAnswer | None) -> PublicSubTask:
    return PublicSubTask(
        number=number,
        key=subtask.key,
        kind=subtask.kind,
        title=subtask.title,
        definition=subtask.definition,
        example_seeker=subtask.example_seeker,
        example_supporter=subtask.example_supporter,
        question=subtask.question,
        options=list(subtask.options),
        answer=None if answer is None else Revealed(option=answer.option),
    )


@dataclass(frozen=True)
class Progress:
    """Where a worker stands in the tutorial: their open attempt and what they answered."""

    items: list[PublicSubTask]
    attempt: QuizAttempt | None
    attempts_used: int  # submitted attempts
    attempts_allowed: int
    max_wrong: int
    last_submitted: QuizAttempt | None = None
    answered: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "answered", sum(1 for i in self.items if i.answer is not None))

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def attempts_left(self) -> int:
        return max(self.attempts_allowed - self.attempts_used, 0)

    @property
    def first_unanswered(self) -> int | None:
        return next((i.number for i in self.items if i.answer is None), None)

    @property
    def unanswered_numbers(self) -> list[int]:
        return [i.number for i in self.items if i.answer is None]


def progress(worker: Worker) -> Progress:
    """The worker's view of the tutorial, in a fixed number of queries."""
    attempts = list(worker.quiz_attempts.order_by("number"))
    open_attempt = next((a for a in attempts if a.is_open), None)
    submitted = [a for a in attempts if not a.is_open]
    answers: dict[int, QuizAnswer] = {}
    if open_attempt is not None:
        answers = {a.subtask_id: a for a in open_attempt.answers.all()}
    items = [
        public_subtask(subtask, number, answers.get(subtask.pk))
        for number, subtask in enumerate(subtasks(), start=1)
    ]
    return Progress(
        items=items,
        attempt=open_attempt,
        attempts_used=len(submitted),
        attempts_allowed=worker.run.quiz_max_attempts,
        max_wrong=worker.run.quiz_max_wrong,
        last_submitted=submitted[-1] if submitted else None,
    )


def subtask_at(number: int) -> SubTask | None:
    """The sub-task shown at 1-based position `number`, or None."""
    if number < 1:
        return None
    return SubTask.objects.order_by("order")[number - 1 : number].first()


# --- Funnel (staff only) ----------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionStats:
    order: int
    title: str
    answered: int
    wrong: int

    @property
    def error_rate(self) -> float | None:
        return self.wrong / self.answered if self.answered else None


@dataclass(frozen=True)
class RunFunnel:
    run: CollectionRun
    started: int
    passed: int
    failed: int
    in_training: int
    questions: list[QuestionStats]

    @property
    def pass_rate(self) -> float | None:
        decided = self.passed + self.failed
        return self.passed / decided if decided else None


def funnel() -> list[RunFunnel]:
    """Per collection run: supporters started/passed/failed/in training, and per-question errors.

    Three aggregate queries in all, whatever the number of workers.
    """
    q = Worker.Qualification
    counts: dict[int, dict[str, int]] = {
        row["run_id"]: {
            "started": row["started"],
            "passed": row["passed"],
            "failed": row["failed"],
            "in_training": row["in_training"],
        }
        for row in Worker.objects.filter(role=vocabulary.SUPPORTER)
        .values("run_id")
        .annotate(
            started=Count("pk", filter=Q(qualification__in=[q.IN_TRAINING, q.QUALIFIED, q.FAILED])),
            passed=Count("pk", filter=Q(qualification=q.QUALIFIED)),
            failed=Count("pk", filter=Q(qualification=q.FAILED)),
            in_training=Count("pk", filter=Q(qualification=q.IN_TRAINING)),
        )
        .order_by()
    }
    per_question: dict[int, dict[int, tuple[int, int]]] = {}
    for answer_row in (
        QuizAnswer.objects.values("attempt__worker__run_id", "subtask_id")
        .annotate(answered=Count("pk"), wrong=Count("pk", filter=Q(is_correct=False)))
        .order_by()
    ):
        per_question.setdefault(answer_row["attempt__worker__run_id"], {})[
            answer_row["subtask_id"]
        ] = (answer_row["answered"], answer_row["wrong"])
    all_subtasks = subtasks()
    result = []
    for run in CollectionRun.objects.order_by("-created_at"):
        row: dict[str, int] = counts.get(run.pk, {})
        stats = per_question.get(run.pk, {})
        result.append(
            RunFunnel(
                run=run,
                started=row.get("started", 0),
                passed=row.get("passed", 0),
                failed=row.get("failed", 0),
                in_training=row.get("in_training", 0),
                questions=[
                    QuestionStats(
                        order=number,
                        title=subtask.title,
                        answered=stats.get(subtask.pk, (0, 0))[0],
                        wrong=stats.get(subtask.pk, (0, 0))[1],
                    )
                    for number, subtask in enumerate(all_subtasks, start=1)
                ],
            )
        )
    return result
