"""Reads of the training tutorial: what a worker may see, the review, the gate.

`public_subtask` is the only place that turns an attempt's item into something shown to a
worker (HTML or API) while an attempt can still be used. After an answer it carries whether
the answer was right and the item's explanation (which never names or quotes the right
option: tutorial/content.py checks that), never the right option itself. The right options
appear only in `review`, once the worker has passed or used their last attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crowd.models import Worker
from tutorial.funnel import funnel  # noqa: F401  (the staff funnel, with the other reads)
from tutorial.models import AttemptItem, QuizAnswer, QuizAttempt, SubTask, TutorialIntro


def intro() -> TutorialIntro | None:
    return TutorialIntro.objects.order_by("pk").first()


def subtasks() -> list[SubTask]:
    return list(SubTask.objects.order_by("order"))


@dataclass(frozen=True)
class Feedback:
    """What the worker learns after answering: their choice, right or not, and the concept."""

    option: int  # the place of their choice in the shown list
    correct: bool
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {"option": self.option, "correct": self.correct, "explanation": self.explanation}


def feedback(drawn: AttemptItem, answer: QuizAnswer) -> Feedback:
    return Feedback(
        option=drawn.shown_position(answer.option),
        correct=answer.is_correct,
        explanation=drawn.item.explanation,
    )


@dataclass(frozen=True)
class PublicSubTask:
    number: int  # 1-based position shown to the worker ("4 of 11")
    key: str
    kind: str
    title: str
    definition: str
    example_seeker: str
    example_supporter: str
    item: str  # the quiz item's key: the page sends it back with the answer
    question: str
    options: list[str]  # in this attempt's order
    answer: Feedback | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "definition": self.definition,
            "example": {"seeker": self.example_seeker, "supporter": self.example_supporter},
            "item": self.item,
            "question": self.question,
            "options": list(self.options),
            "answer": None if self.answer is None else self.answer.as_dict(),
        }


def public_subtask(number: int, drawn: AttemptItem, answer: QuizAnswer | None) -> PublicSubTask:
    subtask = drawn.subtask
    return PublicSubTask(
        number=number,
        key=subtask.key,
        kind=subtask.kind,
        title=subtask.title,
        definition=subtask.definition,
        example_seeker=subtask.example_seeker,
        example_supporter=subtask.example_supporter,
        item=drawn.item.key,
        question=drawn.item.question,
        options=drawn.shown_options(),
        answer=None if answer is None else feedback(drawn, answer),
    )


def _drawn(attempt: QuizAttempt) -> list[AttemptItem]:
    return list(attempt.drawn.select_related("item", "subtask").order_by("subtask__order"))


def attempt_items(attempt: QuizAttempt) -> list[PublicSubTask]:
    """The attempt's questions as the worker sees them, with their feedback once answered."""
    answers = {a.subtask_id: a for a in attempt.answers.all()}
    return [
        public_subtask(number, drawn, answers.get(drawn.subtask_id))
        for number, drawn in enumerate(_drawn(attempt), start=1)
    ]


@dataclass(frozen=True)
class Progress:
    """Where a worker stands: their open attempt (or else their last one) and its answers."""

    items: list[PublicSubTask]
    attempt: QuizAttempt | None
    attempts_used: int  # submitted attempts
    attempts_allowed: int
    max_wrong: int
    last_submitted: QuizAttempt | None = None
    answered: int = field(init=False)
    wrong: int = field(init=False)

    def __post_init__(self) -> None:
        answers = [i.answer for i in self.items if i.answer is not None]
        object.__setattr__(self, "answered", len(answers))
        object.__setattr__(self, "wrong", sum(1 for a in answers if not a.correct))

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
    def cannot_pass(self) -> bool:
        """The open attempt already has more wrong answers than the run allows."""
        return self.wrong > self.max_wrong

    @property
    def not_right(self) -> list[PublicSubTask]:
        return [i for i in self.items if i.answer is not None and not i.answer.correct]


def progress(worker: Worker) -> Progress:
    """The worker's view of the tutorial, in a fixed number of queries."""
    attempts = list(worker.quiz_attempts.order_by("number"))
    open_attempt = next((a for a in attempts if a.is_open), None)
    submitted = [a for a in attempts if not a.is_open]
    shown = open_attempt or (submitted[-1] if submitted else None)
    return Progress(
        items=attempt_items(shown) if shown is not None else [],
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


# --- The review (after the last attempt, or after passing) -------------------------------------


def may_review(worker: Worker) -> bool:
    """Only a supporter whose training is decided: nothing they learn can be used any more."""
    return worker.is_supporter and worker.qualification in (
        Worker.Qualification.QUALIFIED,
        Worker.Qualification.FAILED,
    )


@dataclass(frozen=True)
class ReviewedOption:
    text: str
    chosen: bool
    correct: bool


@dataclass(frozen=True)
class ReviewedItem:
    number: int
    title: str
    question: str
    options: list[ReviewedOption]
    answered: bool
    correct: bool
    explanation: str

    @property
    def correct_text(self) -> str:
        return next(o.text for o in self.options if o.correct)

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "question": self.question,
            "options": [o.text for o in self.options],
            "chosen": next((i for i, o in enumerate(self.options) if o.chosen), None),
            "correct_option": next(i for i, o in enumerate(self.options) if o.correct),
            "correct": self.correct,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class ReviewedAttempt:
    number: int
    passed: bool | None
    wrong_count: int | None
    items: list[ReviewedItem]


def _reviewed(number: int, drawn: AttemptItem, answer: QuizAnswer | None) -> ReviewedItem:
    item = drawn.item
    return ReviewedItem(
        number=number,
        title=drawn.subtask.title,
        question=item.question,
        options=[
            ReviewedOption(
                text=str(item.options[index]),
                chosen=answer is not None and answer.option == index,
                correct=index == item.correct_option,
            )
            for index in drawn.option_order
        ],
        answered=answer is not None,
        correct=answer is not None and answer.is_correct,
        explanation=item.explanation,
    )


def review(worker: Worker) -> list[ReviewedAttempt]:
    """Every item of every attempt, with the worker's answer, the right one and why.

    Callers check `may_review` first: this is the key.
    """
    result = []
    for attempt in worker.quiz_attempts.order_by("number").prefetch_related("answers"):
        answers = {a.subtask_id: a for a in attempt.answers.all()}
        items = [
            _reviewed(number, drawn, answers.get(drawn.subtask_id))
            for number, drawn in enumerate(_drawn(attempt), start=1)
        ]
        result.append(ReviewedAttempt(attempt.number, attempt.passed, attempt.wrong_count, items))
    return result
