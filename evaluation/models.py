"""Human interactive evaluation (docs/evaluation.md): a model in the supporter's seat.

A `SupporterBackend` answers as the supporter (evaluation.backends). An `Evaluation` makes a
collection run an evaluation run: each seeker chats with backend A and with backend B, in an
order drawn for them (`EvaluationSession.first`), one `EvaluationLeg` (a Conversation with no
supporter worker) per backend, then compares the two on the paper's five questions
(`Comparison`). Conversations of an evaluation never enter the human dataset export.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from chat.models import Conversation
from crowd.models import CollectionRun, Worker

A, B = "a", "b"
SLOT_CHOICES = [(A, "Backend A"), (B, "Backend B")]


class SupporterBackend(models.Model):
    """Something that writes the supporter's next message: a lab's model server or retrieval."""

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP model server (the JSON contract in docs/evaluation.md)"
        RETRIEVAL = "retrieval", "Built-in retrieval over approved conversations"

    class Mode(models.TextChoices):
        # The paper's variants: the strategy predicted from the context, given, or drawn.
        JOINT = "joint", "Joint: strategy predicted from the context"
        ORACLE = "oracle", "Oracle: strategy given with the request (offline checks)"
        RANDOM = "random", "Random: strategy drawn from the data's distribution"

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # HTTP: where the contract's POST goes, and how long one attempt may take.
    url = models.URLField(max_length=500, blank=True)
    timeout_seconds = models.FloatField(
        default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(120)]
    )
    # Retrieval: how the strategy is chosen, and whose approved conversations are searched
    # (blank: every approved conversation that is not an evaluation's).
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.JOINT)
    source_run = models.ForeignKey(
        CollectionRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seed = models.IntegerField(default=0, help_text="Seed of the Random mode's draws.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Evaluation(models.Model):
    """What makes a collection run an evaluation run: its two backends and the chats' length."""

    run = models.OneToOneField(CollectionRun, on_delete=models.CASCADE, related_name="evaluation")
    backend_a = models.ForeignKey(SupporterBackend, on_delete=models.PROTECT, related_name="+")
    backend_b = models.ForeignKey(SupporterBackend, on_delete=models.PROTECT, related_name="+")
    turns = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Replies each backend writes before its conversation ends.",
    )
    # A realistic pause before a reply appears: a second to read, then this typing speed.
    typing_chars_per_second = models.FloatField(
        default=12.0, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )
    max_reply_seconds = models.FloatField(
        default=8.0,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
        help_text="Longest pause before a reply, however long the reply.",
    )
    attempts = models.PositiveIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Tries for one reply before the chat ends (the seeker is paid as finished).",
    )

    def __str__(self) -> str:
        return f"Evaluation of {self.run.name}: {self.backend_a} vs {self.backend_b}"


class EvaluationSession(models.Model):
    """One seeker's evaluation: which backend they met first, and when they finished."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="sessions")
    worker = models.OneToOneField(Worker, on_delete=models.PROTECT, related_name="evaluation")
    first = models.CharField(max_length=1, choices=SLOT_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Evaluation session {self.pk}"


class EvaluationLeg(models.Model):
    """One of the seeker's two chats: a conversation whose supporter is a backend."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="legs")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="evaluation_leg"
    )
    backend = models.ForeignKey(SupporterBackend, on_delete=models.PROTECT, related_name="legs")
    slot = models.CharField(max_length=1, choices=SLOT_CHOICES)
    order = models.PositiveSmallIntegerField()  # 1 or 2: which chat of the seeker's it was
    replies = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "slot"], name="one_leg_per_backend"),
            models.UniqueConstraint(fields=["session", "order"], name="one_leg_per_order"),
        ]

    def __str__(self) -> str:
        return f"Chat {self.order} of session {self.session_id} ({self.slot})"


QUESTIONS = ("fluency", "identification", "comforting", "suggestion", "overall")


class Comparison(models.Model):
    """The seeker's answers: for each of the paper's five questions, A, B or a tie."""

    class Choice(models.TextChoices):
        A = A, "Backend A"
        B = B, "Backend B"
        TIE = "tie", "Tie"

    session = models.OneToOneField(
        EvaluationSession, on_delete=models.CASCADE, related_name="comparison"
    )
    fluency = models.CharField(max_length=3, choices=Choice.choices)
    identification = models.CharField(max_length=3, choices=Choice.choices)
    comforting = models.CharField(max_length=3, choices=Choice.choices)
    suggestion = models.CharField(max_length=3, choices=Choice.choices)
    overall = models.CharField(max_length=3, choices=Choice.choices)
    submitted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Comparison of session {self.session_id}"
