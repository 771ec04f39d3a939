"""The staff funnel: supporters per run through the training, and how each quiz item fares.

Per collection run: supporters who started, passed, failed or are still in training; per
sub-task the error rate over all its items; and per item variant how often it was answered
right, so an item that is much harder than the others of its bank stands out (it may be
unclear rather than hard). Four queries in all, whatever the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from tutorial.models import QuizAnswer, QuizItem, SubTask

# An item is marked for a look when it has this many answers and its right rate is this far
# below the rate of its sub-task's answers.
WEAK_MIN_ANSWERS = 10
WEAK_GAP = 0.2


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ItemStats:
    key: str
    question: str
    is_active: bool
    answered: int
    right: int
    weak: bool = False

    @property
    def wrong(self) -> int:
        return self.answered - self.right

    @property
    def right_rate(self) -> float | None:
        return _rate(self.right, self.answered)


@dataclass(frozen=True)
class QuestionStats:
    """One sub-task: its answers over all items and attempts, and its items."""

    order: int
    title: str
    answered: int
    wrong: int
    items: tuple[ItemStats, ...] = ()

    @property
    def error_rate(self) -> float | None:
        return _rate(self.wrong, self.answered)

    @property
    def right_rate(self) -> float | None:
        return _rate(self.answered - self.wrong, self.answered)


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
        return _rate(self.passed, self.passed + self.failed)


def _supporter_counts() -> dict[int, dict[str, int]]:
    q = Worker.Qualification
    rows = (
        Worker.objects.filter(role=vocabulary.SUPPORTER)
        .values("run_id")
        .annotate(
            started=Count("pk", filter=Q(qualification__in=[q.IN_TRAINING, q.QUALIFIED, q.FAILED])),
            passed=Count("pk", filter=Q(qualification=q.QUALIFIED)),
            failed=Count("pk", filter=Q(qualification=q.FAILED)),
            in_training=Count("pk", filter=Q(qualification=q.IN_TRAINING)),
        )
        .order_by()
    )
    return {
        row["run_id"]: {
            "started": row["started"],
            "passed": row["passed"],
            "failed": row["failed"],
            "in_training": row["in_training"],
        }
        for row in rows
    }


def _answer_counts() -> dict[int, dict[int, tuple[int, int]]]:
    """Per run, per item: (answered, right)."""
    counts: dict[int, dict[int, tuple[int, int]]] = {}
    for row in (
        QuizAnswer.objects.values("attempt__worker__run_id", "item_id")
        .annotate(answered=Count("pk"), right=Count("pk", filter=Q(is_correct=True)))
        .order_by()
    ):
        counts.setdefault(row["attempt__worker__run_id"], {})[row["item_id"]] = (
            row["answered"],
            row["right"],
        )
    return counts


def _question(
    number: int, subtask: SubTask, items: list[QuizItem], counts: dict[int, tuple[int, int]]
) -> QuestionStats:
    answered = sum(counts.get(i.pk, (0, 0))[0] for i in items)
    right = sum(counts.get(i.pk, (0, 0))[1] for i in items)
    stats = []
    for item in items:
        item_answered, item_right = counts.get(item.pk, (0, 0))
        weak = (
            item_answered >= WEAK_MIN_ANSWERS
            and item_right / item_answered < right / answered - WEAK_GAP
        )
        stats.append(
            ItemStats(item.key, item.question, item.is_active, item_answered, item_right, weak)
        )
    return QuestionStats(number, subtask.title, answered, answered - right, tuple(stats))


def funnel() -> list[RunFunnel]:
    """Per collection run (newest first): the supporters' funnel and every item's rates."""
    counts = _supporter_counts()
    answers = _answer_counts()
    banks: dict[int, list[QuizItem]] = {}
    subtasks: dict[int, SubTask] = {}
    for item in QuizItem.objects.select_related("subtask").order_by("position", "pk"):
        banks.setdefault(item.subtask_id, []).append(item)
        subtasks[item.subtask_id] = item.subtask
    ordered = sorted(subtasks.values(), key=lambda s: s.order)
    result = []
    for run in CollectionRun.objects.order_by("-created_at"):
        row = counts.get(run.pk, {})
        per_item = answers.get(run.pk, {})
        result.append(
            RunFunnel(
                run=run,
                started=row.get("started", 0),
                passed=row.get("passed", 0),
                failed=row.get("failed", 0),
                in_training=row.get("in_training", 0),
                questions=[
                    _question(number, subtask, banks[subtask.pk], per_item)
                    for number, subtask in enumerate(ordered, start=1)
                ],
            )
        )
    return result
