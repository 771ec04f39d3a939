"""Quality control records: flags, versioned approval rules, decisions, reviews, releases.

Chat owns the conversation and its `quality_status`; everything that explains *why* a status
was set (the rule set used, every criterion's value, who reviewed or corrected what) lives here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import Worker


class Flag(models.Model):
    """Something a reviewer must look at, raised by the chat or by the rules."""

    class Kind(models.TextChoices):
        COPIED_EXAMPLE = "copied_example", "Copies a tutorial example"
        ABUSIVE = "abusive", "Possibly abusive text"
        RELABEL_DISAGREEMENT = "relabel_disagreement", "Re-labellers disagree with the label"
        SAME_NETWORK = "same_network", "Both partners entered from one network address"
        # Safety (docs/safety.md): raised by the live screening or the quality job's backstop.
        CRISIS_SUICIDE_SELF_HARM = "crisis_suicide_self_harm", "Safety: suicide or self-harm"
        CRISIS_HARMED_BY_OTHERS = "crisis_harmed_by_others", "Safety: harmed by someone"
        CRISIS_MEDICAL_DANGER = "crisis_medical_danger", "Safety: immediate medical danger"
        CONDUCT_ABUSIVE = "conduct_abusive", "Supporter conduct: abusive"
        CONDUCT_SEXUAL = "conduct_sexual", "Supporter conduct: sexual"
        CONDUCT_DEMEANING = "conduct_demeaning", "Supporter conduct: demeaning"
        # How a message was written (docs/authenticity.md): raised after its acknowledgement.
        AUTHENTICITY_PASTED = "authenticity_pasted", "Written: mostly pasted"
        AUTHENTICITY_TOO_FAST = "authenticity_too_fast", "Written: faster than a person types"
        AUTHENTICITY_AFTER_REFOCUS = (
            "authenticity_after_refocus",
            "Written: a long message sent right after coming back to the page",
        )
        AUTHENTICITY_NO_COMPOSITION = (
            "authenticity_no_composition",
            "Written: no composition data (not sent from the chat page)",
        )
        AUTHENTICITY_UNCONFIRMED = (
            "authenticity_unconfirmed",
            "Written: composition data the server did not see happen",
        )
        AUTHENTICITY_DUPLICATE = (
            "authenticity_duplicate",
            "Written: the same text sent into other conversations of the run",
        )

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="flags")
    utterance = models.ForeignKey(
        Utterance, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A safety flag's detector score (0..1); empty for every other kind.
    score = models.FloatField(null=True, blank=True)
    # Who resolved it and why: a safety flag is resolved only with a note (docs/safety.md).
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    # A duplicate's other places, [{"conversation": id, "position": n}, ...] (docs/authenticity.md).
    matches = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "kind"])]
        constraints = [
            # One flag of a kind per message: the live screening and the backstop may both try.
            models.UniqueConstraint(
                fields=["utterance", "kind"],
                condition=models.Q(kind__startswith="crisis_")
                | models.Q(kind__startswith="conduct_"),
                name="one_safety_flag_per_message_and_kind",
            ),
            models.UniqueConstraint(
                fields=["utterance", "kind"],
                condition=models.Q(kind__startswith="authenticity_"),
                name="one_authenticity_flag_per_message_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on conversation {self.conversation_id}"


# Safety flags' kinds begin with these (docs/safety.md): a seeker's crisis, a supporter's conduct.
CRISIS_PREFIX = "crisis_"
CONDUCT_PREFIX = "conduct_"
AUTHENTICITY_PREFIX = "authenticity_"


def safety_kinds() -> list[str]:
    """Every Flag.Kind of a safety flag: resolved only on its own, with a note."""
    return [kind for kind in Flag.Kind.values if kind.startswith((CRISIS_PREFIX, CONDUCT_PREFIX))]


def authenticity_kinds() -> list[str]:
    """Every Flag.Kind about how a message was written."""
    return [kind for kind in Flag.Kind.values if kind.startswith(AUTHENTICITY_PREFIX)]


def _default_authenticity_blocking() -> list[str]:
    return authenticity_kinds()


def _default_finished_end_reasons() -> list[str]:
    return [Conversation.EndReason.FINISHED]


class AutoApprovalRuleSet(models.Model):
    """One immutable version of the preliminary filter and auto-approval thresholds.

    The rules these thresholds feed are described in docs/quality.md.

    A rule set is never changed once saved: editing it in the admin saves a new row with the
    next version number, so every `Decision` keeps pointing at the exact thresholds it used.
    The rule set in force is the one with the highest version.
    """

    version = models.PositiveIntegerField(unique=True, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Why this version was made.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Preliminary filter (docs/quality.md).
    finished_end_reasons = models.JSONField(
        default=_default_finished_end_reasons,
        help_text="End reasons of live conversations that count as finished by the seeker.",
    )
    imported_counts_as_finished = models.BooleanField(
        default=True,
        help_text="Imported conversations count as finished (the dataset kept only those).",
    )
    min_utterances = models.PositiveIntegerField(default=16)

    # Supporter criteria: at least `supporter_criteria_required` of these four must hold.
    min_improvement = models.IntegerField(default=1, help_text="initial − final emotion intensity")
    min_supporter_avg_words = models.FloatField(default=8.0)
    min_empathy = models.PositiveSmallIntegerField(default=3)
    min_relevance = models.PositiveSmallIntegerField(default=4)
    supporter_criteria_required = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(0), MaxValueValidator(4)]
    )

    # Seeker criterion: must hold.
    min_seeker_avg_words = models.FloatField(default=6.0)

    # Without a seeker post-chat survey: both length criteria and the last N feedback scores.
    no_survey_feedback_count = models.PositiveSmallIntegerField(default=2)
    no_survey_feedback_above = models.PositiveSmallIntegerField(
        default=4, help_text="Each of the last feedback scores must be strictly greater than this."
    )

    # Annotation correction by re-labelling (docs/quality.md).
    relabel_disagreement_above = models.FloatField(
        default=0.75,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="An utterance is flagged when more than this share of re-labellers disagree.",
    )
    relabel_min_labellers = models.PositiveSmallIntegerField(
        default=1, help_text="Re-labels needed before disagreement is judged."
    )

    # How messages were written (docs/authenticity.md, "Signals").
    max_pasted_share = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="A message more than this share pasted is flagged (of at least 20 characters).",
    )
    max_chars_per_second = models.FloatField(
        default=15.0,
        validators=[MinValueValidator(1.0)],
        help_text="Typed characters per second of composition above this are flagged.",
    )
    refocus_window_ms = models.PositiveIntegerField(
        default=2000,
        help_text="A long message sent within this many ms of coming back to the page is flagged.",
    )
    refocus_min_chars = models.PositiveIntegerField(
        default=80, help_text="How long a message sent right after coming back must be to count."
    )
    duplicate_min_words = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(3)],
        help_text="Messages of fewer words are never duplicates (courtesies repeat honestly).",
    )
    duplicate_threshold = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.1), MaxValueValidator(1.0)],
        help_text="Jaccard similarity of 3-word shingles from which two messages are duplicates.",
    )
    authenticity_blocking = models.JSONField(
        default=_default_authenticity_blocking,
        blank=True,  # an empty list: every authenticity flag only informs reviewers
        help_text="The authenticity flag kinds that hold auto-approval back; others only inform.",
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(relabel_disagreement_above__gte=0, relabel_disagreement_above__lte=1),
                name="ruleset_relabel_share_0_1",
            ),
            models.CheckConstraint(
                condition=Q(supporter_criteria_required__lte=4), name="ruleset_required_lte_4"
            ),
        ]

    def __str__(self) -> str:
        return f"Rule set v{self.version}"

    def clean(self) -> None:
        reasons = self.finished_end_reasons
        valid = set(Conversation.EndReason.values)
        if not isinstance(reasons, list) or not all(r in valid for r in reasons):
            raise ValidationError(
                {"finished_end_reasons": f"a list of end reasons from {sorted(valid)}"}
            )
        kinds, known = self.authenticity_blocking, set(authenticity_kinds())
        if not isinstance(kinds, list) or not all(k in known for k in kinds):
            raise ValidationError(
                {"authenticity_blocking": f"a list of flag kinds from {sorted(known)}"}
            )


class Outcome(models.TextChoices):
    FILTERED = "filtered", "Dropped by the preliminary filter"
    APPROVED = "approved", "Approved automatically"
    REVIEW = "review", "Sent to a reviewer"


class Decision(models.Model):
    """One automatic judgement of a conversation: the rule set, every criterion, the outcome."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="quality_decisions"
    )
    rule_set = models.ForeignKey(AutoApprovalRuleSet, on_delete=models.PROTECT, related_name="+")
    rule_set_version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # [{"name", "value", "threshold", "held", "required"}], in rule order.
    criteria = models.JSONField()
    has_seeker_survey = models.BooleanField()
    # Short human-readable reasons: failed criteria and open flags.
    reasons = models.JSONField(default=list)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["conversation", "-decided_at"])]

    def __str__(self) -> str:
        return f"{self.outcome} for conversation {self.conversation_id} (v{self.rule_set_version})"


class JudgingClaim(models.Model):
    """A job's claim on a pending conversation while it judges it.

    Inserted with ON CONFLICT DO NOTHING, so of two concurrent jobs exactly one owns each
    conversation; a claim older than the expiry (a crashed worker) may be taken over.
    """

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    token = models.CharField(max_length=32, db_index=True)
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"judging claim on {self.conversation_id}"


class ReviewClaim(models.Model):
    """A reviewer's lock on a conversation in the queue; expires (`quality.claims`)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="review_claim"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.reviewer} holds conversation {self.conversation_id}"


class Review(models.Model):
    """A reviewer's approve/reject decision (a reason is required to reject)."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(verdict="rejected") | ~Q(reason=""), name="review_reject_needs_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.verdict} conversation {self.conversation_id}"


class Correction(models.Model):
    """A reviewer's change of a strategy label or an initial emotion intensity.

    The corrected value is written into the chat record (so exports use it); the original
    value, who changed it and when stay here.
    """

    class Field(models.TextChoices):
        STRATEGY = "strategy", "Strategy label"
        INITIAL_EMOTION_INTENSITY = "initial_emotion_intensity", "Initial emotion intensity"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="corrections"
    )
    utterance = models.ForeignKey(
        Utterance, null=True, blank=True, on_delete=models.CASCADE, related_name="corrections"
    )
    field = models.CharField(max_length=32, choices=Field.choices)
    original_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["corrected_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(field="strategy", utterance__isnull=False)
                | Q(field="initial_emotion_intensity", utterance__isnull=True),
                name="correction_target_matches_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.original_value!r} -> {self.new_value!r}"


class RelabelAssignment(models.Model):
    """An approved conversation given to a qualified supporter to re-label its strategies."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="relabel_assignments"
    )
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="relabel_assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "worker"], name="relabel_once_per_worker"
            )
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} for worker {self.worker_id}"


class Relabel(models.Model):
    """One re-labeller's strategy for one supporter utterance."""

    assignment = models.ForeignKey(
        RelabelAssignment, on_delete=models.CASCADE, related_name="labels"
    )
    utterance = models.ForeignKey(Utterance, on_delete=models.CASCADE, related_name="relabels")
    strategy = models.CharField(max_length=64, choices=vocabulary.STRATEGY_CHOICES)
    # The label the utterance carried when it was re-labelled (corrections may change it later).
    original_strategy = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "utterance"], name="relabel_once"),
            models.CheckConstraint(
                condition=Q(strategy__in=vocabulary.STRATEGY_NAMES), name="relabel_strategy_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.utterance_id}: {self.strategy}"


class Release(models.Model):
    """A dated, numbered export file of the approved set."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    path = models.CharField(max_length=500)
    count = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Release {self.number}"


class CalibrationSample(models.Model):
    """The conversations of one run drawn for rule calibration (docs/quality.md).

    Drawn once per run by a seeded random draw, so the same seed and population give the same
    sample; reviewers label it, and candidate rule sets are compared with their labels.
    """

    run = models.OneToOneField(
        "crowd.CollectionRun", on_delete=models.CASCADE, related_name="calibration_sample"
    )
    seed = models.IntegerField()
    size = models.PositiveIntegerField(help_text="How many conversations were asked for.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"calibration sample of run {self.run_id}"


class CalibrationItem(models.Model):
    """One conversation of a calibration sample; `position` is its place in the seeded draw."""

    sample = models.ForeignKey(CalibrationSample, on_delete=models.CASCADE, related_name="items")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["sample", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "conversation"], name="calibration_item_once"
            ),
            models.UniqueConstraint(
                fields=["sample", "position"], name="calibration_item_position"
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} at {self.position}"


class CalibrationLabel(models.Model):
    """A reviewer's judgement of a sampled conversation: should it be approved or not.

    Each reviewer labels on their own (one label per conversation and reviewer), so the labels
    of two reviewers can be compared with each other and with every candidate rule set.
    """

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="calibration_labels"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    approved = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "reviewer"], name="calibration_label_once"
            )
        ]

    def __str__(self) -> str:
        verdict = "approved" if self.approved else "not approved"
        return f"{self.reviewer_id}: {verdict} for conversation {self.conversation_id}"


class CalibrationClaim(models.Model):
    """A reviewer's hold on a sampled conversation while labelling it; expires
    (`quality.claims`), so two reviewers labelling at once are shown different conversations."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.reviewer} labels conversation {self.conversation_id}"
