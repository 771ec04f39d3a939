"""Pre- and post-chat surveys (docs/workers.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from chat.models import Conversation
from crowd.models import CollectionRun, Worker


class PreChatSurvey(models.Model):
    """A seeker's description of their problem, filled before matching."""

    worker = models.OneToOneField(Worker, on_delete=models.CASCADE, related_name="pre_chat_survey")
    run = models.ForeignKey(CollectionRun, on_delete=models.PROTECT, related_name="+")
    problem_type = models.CharField(max_length=64)
    emotion_type = models.CharField(max_length=64)
    initial_emotion_intensity = models.PositiveSmallIntegerField()
    situation = models.TextField()
    experience_type = models.CharField(max_length=64)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_emotion_intensity__gte=1, initial_emotion_intensity__lte=5),
                name="prechat_intensity_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"Pre-chat survey of worker {self.worker_id}"


def _score(name: str, low: int = 1) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": low, f"{name}__lte": 5}),
        name=f"%(class)s_{name}_range",
    )


class SeekerPostChatSurvey(models.Model):
    """The seeker's answers after the chat. Scores are null when never given (imports)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="seeker_survey"
    )
    worker = models.ForeignKey(Worker, null=True, blank=True, on_delete=models.SET_NULL)
    ended_naturally = models.BooleanField(null=True, blank=True)
    final_emotion_intensity = models.PositiveSmallIntegerField(null=True, blank=True)
    empathy = models.PositiveSmallIntegerField(null=True, blank=True)
    relevance = models.PositiveSmallIntegerField(null=True, blank=True)
    question1 = models.TextField(blank=True)  # what they liked or disliked
    question2 = models.TextField(blank=True)  # what to improve
    # Personal data: never exported.
    email = models.EmailField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            _score("final_emotion_intensity"),
            _score("empathy"),
            _score("relevance"),
        ]

    def __str__(self) -> str:
        return f"Seeker survey of conversation {self.conversation_id}"


class SupporterPostChatSurvey(models.Model):
    """The supporter's answers after the chat."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="supporter_survey"
    )
    worker = models.ForeignKey(Worker, null=True, blank=True, on_delete=models.SET_NULL)
    # Exported as survey_score.supporter.relevance. The released data holds "0" four times,
    # so imports accept 0; the form asks 1-5.
    seeker_detail = models.PositiveSmallIntegerField(null=True, blank=True)
    question1 = models.TextField(blank=True)
    question2 = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [_score("seeker_detail", low=0)]

    def __str__(self) -> str:
        return f"Supporter survey of conversation {self.conversation_id}"
