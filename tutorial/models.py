"""Training tutorial content (editable data) for the ESC Framework, and quiz attempts.

Each sub-task (a stage or a strategy) has a bank of quiz items. Every attempt draws one item
per sub-task and a fresh order of its options (`AttemptItem`), so what a worker learns about
one attempt's items says nothing about the next attempt's (docs/workers.md, "Grading rules").
"""

from __future__ import annotations

from django.db import models

from crowd.models import Worker


class TutorialIntro(models.Model):
    """The introduction page shown before the first sub-task (one row, edited in the admin)."""

    heading = models.CharField(max_length=200)
    # Paragraphs separated by a blank line; rendered as plain escaped text.
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tutorial introduction"

    def __str__(self) -> str:
        return self.heading

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class SubTask(models.Model):
    """One of the eleven sub-tasks: a stage or a strategy, with an example and an item bank."""

    class Kind(models.TextChoices):
        STAGE = "stage", "Stage"
        STRATEGY = "strategy", "Strategy"

    order = models.PositiveIntegerField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The stage key (crowd.vocabulary.STAGES) or the strategy's dataset spelling.
    key = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=120)
    definition = models.TextField()
    example_seeker = models.TextField()
    example_supporter = models.TextField()

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class QuizItem(models.Model):
    """One question of a sub-task's bank: four options, the correct one and an explanation.

    The explanation teaches the concept without naming or quoting the correct option, so it
    can be shown right after the answer while the worker may still take another attempt.
    """

    subtask = models.ForeignKey(SubTask, on_delete=models.CASCADE, related_name="items")
    # Stable across loads and edits ("question-2"): load_tutorial updates items by key.
    key = models.SlugField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=1)  # order within the bank
    question = models.TextField()
    options = models.JSONField()  # list of option texts, in the order written
    correct_option = models.PositiveSmallIntegerField()  # index into options
    explanation = models.TextField()
    # Retired items are kept (answers point at them) but never drawn again.
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["subtask__order", "position", "pk"]
        verbose_name = "quiz item"

    def __str__(self) -> str:
        return self.key

    @property
    def correct_text(self) -> str:
        return str(self.options[self.correct_option])


class QuizAttempt(models.Model):
    """One pass through the quiz by a supporter; numbered 1..run.quiz_max_attempts."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="quiz_attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    wrong_count = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["worker", "number"]
        constraints = [
            # The database, not the view, guarantees that two tabs cannot open an extra attempt.
            models.UniqueConstraint(fields=["worker", "number"], name="quiz_attempt_unique_number"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="quiz_attempt_number_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.worker}"

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None


class AttemptItem(models.Model):
    """The item an attempt shows for one sub-task, and the order its options are shown in.

    Drawn when the attempt opens and kept, so a reload or another tab shows the same question
    with the options in the same order.
    """

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="drawn")
    subtask = models.ForeignKey(SubTask, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(QuizItem, on_delete=models.PROTECT, related_name="draws")
    # Indices into item.options, in the order shown: shown position p is options[order[p]].
    option_order = models.JSONField()

    class Meta:
        ordering = ["attempt", "subtask__order"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "subtask"], name="attempt_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt}: {self.item.key}"

    def shown_options(self) -> list[str]:
        return [str(self.item.options[index]) for index in self.option_order]

    def shown_position(self, option: int) -> int:
        """Where option `option` (an index into item.options) appears on the page."""
        return list(self.option_order).index(option)


class QuizAnswer(models.Model):
    """A supporter's first answer to one question in one attempt (graded when given)."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    # PROTECT: answers are the history behind the funnel's rates.
    subtask = models.ForeignKey(SubTask, on_delete=models.PROTECT, related_name="answers")
    item = models.ForeignKey(QuizItem, on_delete=models.PROTECT, related_name="answers")
    option = models.PositiveSmallIntegerField()  # index into item.options (not the shown place)
    # Graded at answer time, so later edits of the content do not rewrite history.
    is_correct = models.BooleanField()
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["attempt", "subtask__order"]
        constraints = [
            # First answer counts: a second answer to the same question is refused by the DB.
            models.UniqueConstraint(fields=["attempt", "subtask"], name="quiz_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt}: {self.item.key} -> {self.option}"
