"""Collection runs and the crowdworkers who take part in them."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from crowd import vocabulary
from crowd.providers.prolific import REJECTION_CATEGORIES


def _default_problems() -> list[str]:
    return list(vocabulary.DEFAULT_PROBLEMS)


def _default_emotions() -> list[str]:
    return list(vocabulary.DEFAULT_EMOTIONS)


# The run a fresh install starts with (migration 0008, and get_default when it is missing).
DEMO_RUN_NAME = "demo"
# Its own study, so that whoever tries the demo may still take part in a real run.
DEMO_STUDY = "demo"


def demo_run_fields() -> dict[str, Any]:
    """The settings of the demo run, apart from its name."""
    return {
        "title": "Demo run",
        "is_demo": True,
        "study": DEMO_STUDY,
        "researcher_name": "The ESC Platform demo",
        "researcher_contact": "the staff who set up this installation",
        # Anyone may try it from a plain link (`participant=...`), no crowd site needed.
        "accepts_other": True,
    }


class CollectionRun(models.Model):
    """One data collection: its option lists, thresholds, pay and crowd-site return link."""

    class Participation(models.TextChoices):
        ONCE_PER_STUDY = "once_per_study", "Once in the whole study, in one role"
        ONCE_PER_RUN = "once_per_run", "Once in this run, in one role"

    name = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # A run to try the platform with (docs/operations.md, "The demo run"): its pages say so,
    # and quality control, releases and the payment export leave its workers' chats alone.
    is_demo = models.BooleanField(
        default=False,
        help_text=(
            "A run for trying the platform: every worker page says 'demo', and its chats are "
            "never judged, released or paid. To collect in it for real before anyone tried it, "
            "give it a study and untick."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Who may take part (docs/workers.md, "One browser, one person"). Runs with the same study
    # share their people; runs that leave it blank form one study together.
    study = models.SlugField(max_length=64, blank=True)
    participation = models.CharField(
        max_length=16, choices=Participation.choices, default=Participation.ONCE_PER_STUDY
    )
    same_network_needs_review = models.BooleanField(
        default=False,
        help_text=(
            "Send a conversation whose partners entered from one network address to review "
            "instead of approving it (it is flagged either way)."
        ),
    )
    allow_device_switch = models.BooleanField(
        default=False,
        help_text=(
            "Let a worker move their task to another browser (one whose cookie was lost), "
            "only while no conversation of theirs is live. Every move is recorded."
        ),
    )

    # Pre-chat survey options (docs/workers.md, "Pre-chat survey").
    problem_options = models.JSONField(default=_default_problems)
    emotion_options = models.JSONField(default=_default_emotions)
    situation_min_words = models.PositiveIntegerField(default=20)
    situation_max_words = models.PositiveIntegerField(default=80)

    # Training gate (docs/workers.md, "Grading rules"): default every answer right, two attempts.
    quiz_max_wrong = models.PositiveIntegerField(default=0)
    quiz_max_attempts = models.PositiveIntegerField(default=2, validators=[MinValueValidator(1)])

    # Supporters qualified in an earlier run of the lab (docs/crowd-sites.md, "Re-inviting
    # supporters") go straight to the waiting room instead of taking the training again.
    accept_earlier_training = models.BooleanField(
        default=False,
        help_text=(
            "A supporter who passed the training in an earlier run (same crowd-site id) skips "
            "it here and goes straight to the waiting room."
        ),
    )

    # Recruitment (docs/crowd-sites.md, "Recruitment under control").
    paused = models.BooleanField(
        default=False,
        help_text="New workers are asked, before anything, to come back later.",
    )
    target_approved = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Approved conversations at which entry closes and the study is paused on the crowd "
            "site. Blank: no target."
        ),
    )
    entry_balance = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "How many more workers of one role than of the other may be on their way to the "
            "waiting room before newcomers of that role are asked to come back later (3 suits "
            "most runs). Blank: everyone is let in."
        ),
    )
    # When the target was reached: entry closed for good (state, not a setting).
    entry_closed_at = models.DateTimeField(null=True, blank=True, editable=False)

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
    # Pasting into the message box (docs/authenticity.md, "In the chat"): the worker is asked at
    # once to write in their own words; with "refuse", pasted text longer than
    # paste_max_chars does not go in at all. Either way a mostly pasted message is flagged.
    paste_policy = models.CharField(
        max_length=8,
        choices=[("warn", "Warn"), ("refuse", "Refuse long pastes")],
        default="warn",
    )
    paste_max_chars = models.PositiveIntegerField(
        default=40, help_text="With 'refuse': the longest text that may be pasted in one go."
    )

    # The consent page (docs/workers.md, "Consent"): a text with placeholders filled from
    # these settings; blank uses the platform's default text.
    consent_text = models.TextField(
        blank=True,
        help_text=(
            "Blank: the default text. Paragraphs are separated by a blank line; '## ' starts a "
            "heading and '- ' a list item. Placeholders in braces are filled from this run: "
            "see docs/workers.md, 'Consent'."
        ),
    )
    # What a seeker shown help reads (docs/safety.md, "Help resources"): one service per line,
    # "Country | Name | How to reach it | Note"; blank shows the platform's default list.
    help_resources = models.TextField(
        blank=True,
        help_text=(
            "Blank: the default list (emergency numbers, a helpline directory, a few national "
            "lines). One service per line: 'Country | Name | How to reach it | Note'. Use "
            "'Anywhere' for services for everyone. Check the lines for the countries you "
            "recruit from."
        ),
    )
    researcher_name = models.CharField(max_length=200, blank=True)
    researcher_contact = models.CharField(
        max_length=200, blank=True, help_text="An email address or a page where workers reach you."
    )
    expected_minutes = models.PositiveIntegerField(
        default=30, help_text="How long the whole task takes most workers, in minutes."
    )

    # Pay (docs/quality.md, "Status codes and pay").
    base_pay = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.00"))
    # A multiplier of base pay (docs/quality.md): released from waiting base×bonus; partner
    # left or unresponsive: seeker base×bonus, supporter base×10·bonus; 03 base×10·bonus. Above
    # 1 by default, so that a worker whose partner failed them earns more than one who left.
    bonus = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.50"))
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO code shown with pay.")

    # Which crowd sites' links the run takes, and how each worker goes back to their own site
    # (docs/operations.md, "Returning to the crowd site").
    accepts_prolific = models.BooleanField(default=True)
    accepts_mturk = models.BooleanField(default=True)
    # Any other site: a generic link (`participant=ID`) and, if set, a return URL with "{code}".
    accepts_other = models.BooleanField(default=False)
    other_return_url = models.CharField(max_length=500, blank=True)
    # Prolific: "{code}" (and "{status}") are filled in; blank shows the code only.
    prolific_completion_url = models.CharField(
        max_length=500,
        blank=True,
        default="https://app.prolific.com/submissions/complete?cc={code}",
    )
    # MTurk: a HIT's link carries turkSubmitTo (sandbox or production); without it, this says.
    mturk_sandbox = models.BooleanField(
        default=False, help_text="Without turkSubmitTo in the link, return to the MTurk sandbox."
    )
    site_completion_codes = models.JSONField(default=dict, blank=True)

    # Settling on the crowd site (docs/crowd-sites.md, "Settlement"): per status code, approve
    # or reject and, if not the pay table's, the bonus: {"01": {"action": "reject"},
    # "03": {"bonus": "2.00"}}. Empty: approve everyone, bonuses from the pay table.
    settlement_policy = models.JSONField(default=dict, blank=True)
    rejection_message = models.TextField(
        blank=True,
        help_text="What a rejected worker reads (Prolific wants at least 100 characters).",
    )
    rejection_category = models.CharField(
        max_length=32,
        blank=True,
        choices=[(c, c.replace("_", " ").capitalize()) for c in sorted(REJECTION_CATEGORIES)],
        help_text="Prolific's category for the rejections of this run.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_evaluation(self) -> bool:
        """An evaluation run (docs/evaluation.md): its seekers chat with models, not people."""
        return hasattr(self, "evaluation")

    def accepts(self, provider: str) -> bool:
        accepted = {
            "prolific": self.accepts_prolific,
            "mturk": self.accepts_mturk,
            "other": self.accepts_other,
        }
        return accepted.get(provider, False)

    @classmethod
    def get_default(cls) -> CollectionRun:
        """The run workers join when their entry link names none: the oldest active run.

        On a fresh install that is the demo run the migrations made (made again here when no
        run is active and it is missing); close it to send such links to a real run.
        """
        run = cls.objects.filter(is_active=True).order_by("created_at", "pk").first()
        if run is None:
            run, _ = cls.objects.get_or_create(name=DEMO_RUN_NAME, defaults=demo_run_fields())
        return run


class StatusCode(models.TextChoices):
    """How a worker's task ended (docs/quality.md, "Status codes and pay")."""

    FAILED_TRAINING = "00", "Did not pass the training"
    LEFT_EARLY = "01", "Left early"
    PARTNER_UNRESPONSIVE = "02", "Left after the partner stopped responding"
    FINISHED = "03", "Finished the task"


class TaskOutcome(models.TextChoices):
    """How a worker's part ended; the only input to the status code, the pay and the words of
    the status page (docs/quality.md, "Status codes and pay")."""

    FAILED_TRAINING = "failed_training", "Did not pass the training"
    LEFT_EARLY = "left_early", "Left early"
    RELEASED_FROM_WAITING = "released_from_waiting", "No partner became available in time"
    PARTNER_LEFT = "partner_left", "The partner left the conversation"
    PARTNER_UNRESPONSIVE = "partner_unresponsive", "The partner stopped responding"
    FINISHED = "finished", "Finished the task"


def _new_completion_code() -> str:
    return secrets.token_hex(5).upper()


def person_key_of(external_id: str) -> str:
    """One person, whatever the provider or the letter case their id was typed in."""
    return external_id.casefold()


class WorkerQuerySet(models.QuerySet["Worker"]):
    def qualified_supporters(self) -> WorkerQuerySet:
        """Set-wise `Worker.is_qualified_supporter`: supporters who passed the training."""
        return self.filter(role=vocabulary.SUPPORTER, qualification=Worker.Qualification.QUALIFIED)


class Worker(models.Model):
    """A crowdworker in one collection run, bound to their crowd-site identity."""

    class Provider(models.TextChoices):
        PROLIFIC = "prolific", "Prolific"
        MTURK = "mturk", "Amazon Mechanical Turk"
        OTHER = "other", "Another site (generic link)"

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
    # The person behind the id under any provider (person_key_of): one task each.
    person_key = models.CharField(max_length=128, db_index=True)
    # The browser that holds the task and the network it entered from, as hashes
    # (crowd/devices.py); blank on rows made before devices were recorded.
    device_key = models.CharField(max_length=64, blank=True, db_index=True)
    network_key = models.CharField(max_length=64, blank=True)
    study_id = models.CharField(max_length=128, blank=True)
    assignment_id = models.CharField(max_length=128, blank=True)  # SESSION_ID / assignmentId
    hit_id = models.CharField(max_length=128, blank=True)
    # MTurk's turkSubmitTo from the link: where the HIT goes back to (sandbox or production).
    mturk_submit_to = models.CharField(max_length=64, blank=True)

    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CONSENT)
    qualification = models.CharField(
        max_length=16, choices=Qualification.choices, default=Qualification.NOT_APPLICABLE
    )
    qualified_at = models.DateTimeField(null=True, blank=True)
    # Qualified by passing the training in an earlier run, not in this one.
    qualified_earlier = models.BooleanField(default=False)
    # Entered through a rehearsal link (rehearsal.tokens): never exported, never paid unless
    # settlement is told to include it, removed by `remove_simulated` (docs/rehearsal.md).
    simulated = models.BooleanField(default=False, db_default=False)
    consented_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.ForeignKey(
        "ConsentVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="workers"
    )
    waiting_since = models.DateTimeField(null=True, blank=True)

    status_code = models.CharField(max_length=2, choices=StatusCode.choices, blank=True)
    outcome = models.CharField(max_length=24, choices=TaskOutcome.choices, blank=True)
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
            models.UniqueConstraint(fields=["run", "person_key"], name="worker_one_person_per_run"),
            models.CheckConstraint(
                condition=models.Q(role__in=[vocabulary.SEEKER, vocabulary.SUPPORTER]),
                name="worker_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["run", "role", "stage"])]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The entry link sets the person key; a row made another way (the admin, a script)
        # gets the one its id implies.
        if not self.person_key:
            self.person_key = person_key_of(self.external_id)
        super().save(*args, **kwargs)

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


class ConsentVersion(models.Model):
    """The exact consent text a worker of one role agreed to, numbers filled in.

    A new version is made whenever the text a worker would read changes (the run's text or any
    setting it quotes); the versions of a run are numbered from 1 and never change.
    """

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="consents")
    role = models.CharField(max_length=16, choices=vocabulary.ROLE_CHOICES)
    number = models.PositiveIntegerField()
    text = models.TextField()
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="consent_version_number"),
            models.UniqueConstraint(fields=["run", "role", "digest"], name="consent_version_text"),
        ]

    def __str__(self) -> str:
        return f"{self.run} consent v{self.number} ({self.role})"


class DeviceSwitch(models.Model):
    """A worker's task moved to another browser (only where the run allows it): the audit row."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="device_switches")
    switched_at = models.DateTimeField(auto_now_add=True)
    stage = models.CharField(max_length=16, choices=Worker.Stage.choices)
    # Short prefixes of the device hashes: enough to tell browsers apart in the admin.
    from_device = models.CharField(max_length=12)
    to_device = models.CharField(max_length=12)
    same_network = models.BooleanField()

    class Meta:
        ordering = ["-switched_at"]

    def __str__(self) -> str:
        return f"{self.worker} moved to another browser"
