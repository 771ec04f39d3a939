"""Training tutorial content (editable data) for the ESC Framework."""

from __future__ import annotations

from django.db import models


class SubTask(models.Model):
    """One of the eleven sub-tasks: a stage or a strategy, with an example and a quiz item."""

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
    question = models.TextField()
    options = models.JSONField()  # list of 3 or 4 option strings
    correct_option = models.PositiveSmallIntegerField()  # index into options
    explanation = models.TextField()

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"
