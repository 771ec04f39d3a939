"""Conversations and their utterances: the records the ESConv export is made of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from crowd import vocabulary
from crowd.models import CollectionRun, Worker


class Conversation(models.Model):
    """One seeker–supporter chat, with the seeker's pre-chat survey copied onto it."""

    class State(models.TextChoices):
        ACTIVE = "active", "In progress"
        ENDED = "ended", "Ended"

    class EndReason(models.TextChoices):
        FINISHED = "finished", "The seeker ended it after the minimum"
        SEEKER_LEFT = "seeker_left", "The seeker left early"
        SUPPORTER_LEFT = "supporter_left", "The supporter left early"
        PARTNER_UNRESPONSIVE = "partner_unresponsive", "The partner stopped responding"
        ABANDONED = "abandoned", "Neither side wrote for too long"
        # For a seeker's safety (docs/safety.md): both workers are paid as finished.
        STAFF_ENDED = "staff_ended", "Staff ended it"
        # A chat with a model as the supporter (docs/evaluation.md).
        EVALUATED = "evaluated", "The model wrote all its replies"
        BACKEND_FAILED = "backend_failed", "The model could not reply"
        IMPORTED = "imported", "Imported from a dataset file"

    class QualityStatus(models.TextChoices):
        PENDING = "pending", "Not judged yet"
        FILTERED = "filtered", "Dropped by the preliminary filter"
        REVIEW = "review", "Waiting for a reviewer"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    run = models.ForeignKey(CollectionRun, on_delete=models.PROTECT, related_name="conversations")
    seeker = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supporter = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Pre-chat survey (docs/dataset.md), exactly as exported.
    experience_type = models.CharField(max_length=64)
    emotion_type = models.CharField(max_length=64)
    problem_type = models.CharField(max_length=64)
    situation = models.TextField()
    initial_emotion_intensity = models.PositiveSmallIntegerField(null=True, blank=True)

    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(
        max_length=16,
        choices=[*vocabulary.ROLE_CHOICES, (vocabulary.STAFF, "Staff")],
        blank=True,
    )
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)

    quality_status = models.CharField(
        max_length=16, choices=QualityStatus.choices, default=QualityStatus.PENDING
    )
    # Set when a worker's data is deleted: the conversation stays out of every later export.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    # Imports: a fingerprint of the source record makes a second import of a file a no-op.
    source_fingerprint = models.CharField(max_length=64, null=True, blank=True, unique=True)
    source_format = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Messages the live safety screening has read (safety.live), counted after each one: fewer
    # than last_seq means a screening was lost, and the quality job screens the chat again.
    safety_screened = models.PositiveIntegerField(default=0)
    # Live-chat bookkeeping, updated under a lock on this row by chat.messages (LIVE_FIELDS).
    # The position of the last utterance: the next message gets last_seq + 1.
    last_seq = models.PositiveIntegerField(default=0)
    # Turns are min(seeker_blocks, supporter_blocks); a block is a run of one speaker's messages.
    last_speaker = models.CharField(max_length=16, choices=vocabulary.ROLE_CHOICES, blank=True)
    seeker_blocks = models.PositiveIntegerField(default=0)
    supporter_blocks = models.PositiveIntegerField(default=0)
    supporter_message_count = models.PositiveIntegerField(default=0)
    seeker_last_message_at = models.DateTimeField(null=True, blank=True)
    supporter_last_message_at = models.DateTimeField(null=True, blank=True)
    # Feedback prompts are numbered 1, 2, ...; an open prompt waits for the seeker's stars, and
    # an answered score waits for the seeker's next utterance, where it is stored (docs/dataset.md).
    feedback_prompt_count = models.PositiveIntegerField(default=0)
    pending_feedback_prompt = models.PositiveIntegerField(null=True, blank=True)
    pending_feedback_score = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_emotion_intensity__isnull=True)
                | Q(initial_emotion_intensity__gte=1, initial_emotion_intensity__lte=5),
                name="conversation_initial_intensity_1_5",
            ),
            models.CheckConstraint(
                condition=Q(seeker__isnull=True)
                | Q(supporter__isnull=True)
                | ~Q(seeker=models.F("supporter")),
                name="conversation_distinct_workers",
            ),
            # A worker takes part in one chat with a person only; imports leave both null. A
            # seeker of an evaluation chats with two models in turn (no supporter worker).
            models.UniqueConstraint(
                fields=["seeker"],
                condition=Q(supporter__isnull=False),
                name="conversation_one_per_seeker",
            ),
            models.UniqueConstraint(fields=["supporter"], name="conversation_one_per_supporter"),
        ]
        indexes = [
            models.Index(fields=["run", "quality_status"]),
            models.Index(fields=["state"]),
        ]

    # The bookkeeping fields above, written by every message in one UPDATE (chat.sql).
    LIVE_FIELDS = (
        "last_seq",
        "last_speaker",
        "seeker_blocks",
        "supporter_blocks",
        "supporter_message_count",
        "seeker_last_message_at",
        "supporter_last_message_at",
        "feedback_prompt_count",
        "pending_feedback_prompt",
        "pending_feedback_score",
    )

    def __str__(self) -> str:
        return f"Conversation #{self.pk}"

    @property
    def turns(self) -> int:
        return min(self.seeker_blocks, self.supporter_blocks)

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE


class Utterance(models.Model):
    """One message, stored before it is relayed; `position` orders it in its conversation."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="utterances"
    )
    position = models.PositiveIntegerField()
    speaker = models.CharField(max_length=16, choices=vocabulary.ROLE_CHOICES)
    text = models.TextField()  # exactly as typed
    strategy = models.CharField(
        max_length=64, choices=vocabulary.STRATEGY_CHOICES, null=True, blank=True
    )
    feedback = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The id the client gave the message; a resend with the same id is stored once.
    client_message_id = models.CharField(max_length=64, null=True, blank=True)
    # How the message was written (chat.composition, docs/protocol.md "Composition"): what the
    # page measured and the typing frames the server saw; empty when no page sent it. Never in
    # the ESConv export.
    compose = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["conversation_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "position"], name="utterance_unique_position"
            ),
            models.UniqueConstraint(
                fields=["conversation", "client_message_id"],
                condition=Q(client_message_id__isnull=False),
                name="utterance_unique_client_id",
            ),
            models.CheckConstraint(
                condition=(
                    Q(speaker=vocabulary.SUPPORTER, strategy__in=vocabulary.STRATEGY_NAMES)
                    | Q(speaker=vocabulary.SEEKER, strategy__isnull=True)
                ),
                name="utterance_strategy_matches_speaker",
            ),
            models.CheckConstraint(
                condition=Q(feedback__isnull=True)
                | Q(speaker=vocabulary.SEEKER, feedback__gte=1, feedback__lte=5),
                name="utterance_feedback_seeker_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker} #{self.position} in conversation {self.conversation_id}"


class StaffMessage(models.Model):
    """What staff wrote to the workers of a live chat (docs/safety.md, "Stepping in").

    Kept apart from the utterances: it is no part of the dialogue, so the export, the turn
    counts and the rules never see it. Both workers are shown it, marked as the research team's.
    """

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="staff_messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The page's id for the message, so that a resend is stored once.
    client_id = models.CharField(max_length=64)
    text = models.TextField()
    # The last utterance when it was written: where it stands in the chat.
    after_seq = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"], name="staff_message_once_per_id"
            )
        ]
        ordering = ["sent_at", "pk"]

    def __str__(self) -> str:
        return f"Staff message on conversation {self.conversation_id}"
