"""Collection runs and the crowdworkers who take part in them."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from crowd import vocabulary


def _default_problems() -> list[str]:
    return list(vocabulary.DEFAULT_PROBLEMS)


def _default_emotions() -> list[str]:
    return list(vocabulary.DEFAULT_EMOTIONS)


class CollectionRun(models.Model):
    """One data collection: its option lists, thresholds, pay and crowd-site return link."""

    class CompletionMode(models.TextChoices):
        PROLIFIC = "prolific", "Prolific-style completion URL"
        MTURK = "mturk", "MTurk-style external-question form submit"
        NONE = "none", "Show the code only"

    name = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Pre-chat survey options (docs/workers.md, "Pre-chat survey").
    problem_options = models.JSONField(default=_default_problems)
    emotion_options = models.JSONField(default=_default_emotions)
    situation_min_words = models.PositiveIntegerField(default=20)
    situation_max_words = models.PositiveIntegerField(default=80)

    # Training gate (docs/workers.md, "Grading rules"): default every answer right, two attempts.
    quiz_max_wrong = models.PositiveIntegerField(default=0)
    quiz_max_attempts = models.PositiveIntegerField(default=2, validators=[MinValueValidator(1)])

    # Matching and chat (docs/protocol.md, "Chat settings").
    max_wait_seconds = models.PositiveIntegerField(default=600)
    min_turns_to_end = models.PositiveIntegerField(default=10)
    min_seconds_to_end = models.PositiveIntegerField(default=900)
    partner_silence_seconds = models.PositiveIntegerField(default=180)
    # A chat where neither side has written for this long was abandoned by both: it is ended
    # so that both workers get a status (01) instead of waiting forever.
    abandon_after_seconds = models.PositiveIntegerField(default=1800)
    feedback_every = models.PositiveIntegerField(default=2, validators=[MinValueValidator(1)])
    max_message_chars = models.PositiveIntegerField(default=2000)

    # Pay (docs/quality.md, "Status codes and pay").
    base_pay = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.00"))
    # A multiplier of base pay (docs/quality.md):
    # 02 seeker base×bonus; 02 supporter and 03 base×10·bonus.
    bonus = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.00"))
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO code shown with pay.")

    # Where a worker goes back to the crowd site. "{code}" is replaced by the completion code.
    completion_mode = models.CharField(
        max_length=16, choices=CompletionMode.choices, default=CompletionMode.PROLIFIC
    )
    completion_url_template = models.CharField(
        max_length=500,
        blank=True,
        default="https://app.prolific.com/submissions/complete?cc={code}",
    )
    # Prolific checks the code in the completion URL against the codes set up in the study, so
    # a run may map each status code ("00".."03") to one of those; unmapped statuses fall back
    # to the worker's own random completion code (what MTurk-style runs use).
    site_completion_codes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get_default(cls) -> CollectionRun:
        """The run workers join when their entry link names none."""
        run = cls.objects.filter(is_active=True).order_by("created_at").first()
        if run is None:
            run, _ = cls.objects.get_or_create(name="default", defaults={"title": "Default run"})
        return run


class StatusCode(models.TextChoices):
    """How a worker's task ended (docs/quality.md, "Status codes and pay")."""

    FAILED_TRAINING = "00", "Did not pass the training"
    LEFT_EARLY = "01", "Left early"
    PARTNER_UNRESPONSIVE = "02", "Left after the partner stopped responding"
    FINISHED = "03", "Finished the task"


def _new_completion_code() -> str:
    return secrets.token_hex(5).upper()


class WorkerQuerySet(models.QuerySet["Worker"]):
    def qualified_supporters(self) -> WorkerQuerySet:
        """Set-wise `Worker.is_qualified_supporter`: supporters who passed the training."""
        return self.filter(role=vocabulary.SUPPORTER, qualification=Worker.Qualification.QUALIFIED)


class Worker(models.Model):
    """A crowdworker in one collection run, bound to their crowd-site identity."""

    class Provider(models.TextChoices):
        PROLIFIC = "prolific", "Prolific"
        MTURK = "mturk", "Amazon Mechanical Turk"

    class Stage(models.TextChoices):
        CONSENT = "consent", "Reading the consent page"
        TUTORIAL = "tutorial", "In the training tutorial"
        PRE_SURVEY = "pre_survey", "Filling the pre-chat survey"
        WAITING = "waiting", "In the waiting room"
        CHATTING = "chatting", "Chatting"
        POST_SURVEY = "post_survey", "Filling the post-chat survey"
        DONE = "done", "Done"

    class Qualification(models.TextChoices):
        NOT_APPLICABLE = "n/a", "Not a supporter"
        NOT_STARTED = "not_started", "Has not started the training"
        IN_TRAINING = "in_training", "In training"
        QUALIFIED = "qualified", "Passed the training"
        FAILED = "failed", "Failed the training"

    run = models.ForeignKey(CollectionRun, on_delete=models.PROTECT, related_name="workers")
    role = models.CharField(max_length=16, choices=vocabulary.ROLE_CHOICES)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    # Personal data: never leaves the platform in a dataset export.
    external_id = models.CharField(max_length=128)
    study_id = models.CharField(max_length=128, blank=True)
    assignment_id = models.CharField(max_length=128, blank=True)  # SESSION_ID / assignmentId
    hit_id = models.CharField(max_length=128, blank=True)

    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CONSENT)
    qualification = models.CharField(
        max_length=16, choices=Qualification.choices, default=Qualification.NOT_APPLICABLE
    )
    qualified_at = models.DateTimeField(null=True, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)

    status_code = models.CharField(max_length=2, choices=StatusCode.choices, blank=True)
    completion_code = models.CharField(max_length=16, unique=True, default=_new_completion_code)
    # Base pay in force when the outcome was recorded; the bonus is pay_total - pay_base.
    pay_base = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    pay_total = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)  # set when a payment export includes it

    data_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "provider", "external_id"], name="worker_unique_identity"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=[vocabulary.SEEKER, vocabulary.SUPPORTER]),
                name="worker_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["run", "role", "stage"])]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}"

    @property
    def is_supporter(self) -> bool:
        return self.role == vocabulary.SUPPORTER

    @property
    def is_seeker(self) -> bool:
        return self.role == vocabulary.SEEKER

    @property
    def is_qualified(self) -> bool:
        return self.qualification == self.Qualification.QUALIFIED

    @property
    def is_qualified_supporter(self) -> bool:
        """A supporter who passed the training: the only kind of supporter who may chat."""
        return self.is_supporter and self.is_qualified

    @property
    def is_in_training(self) -> bool:
        """A supporter at the tutorial stage: the only worker the quiz accepts answers from."""
        return self.is_supporter and self.stage == self.Stage.TUTORIAL


class DataDeletion(models.Model):
    """A record that a worker's personal data was deleted at their request.

    It holds no personal data itself: only which kinds of data were removed, by whom, and when.
    """

    worker = models.OneToOneField(Worker, on_delete=models.PROTECT, related_name="data_deletion")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(auto_now_add=True)
    removed = models.JSONField(default=list)  # names of the fields that were blanked
    conversations_withdrawn = models.PositiveIntegerField(default=0)
    # Pay the worker had not been paid yet: it can no longer be exported (no id to pay).
    unpaid_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))

    def __str__(self) -> str:
        return f"Data deletion of worker {self.worker_id}"
