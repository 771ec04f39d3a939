"""Quality control records: flags raised during collection, and (later) decisions."""

from __future__ import annotations

from django.db import models

from chat.models import Conversation, Utterance


class Flag(models.Model):
    """Something a reviewer must look at, raised by the chat or by the rules."""

    class Kind(models.TextChoices):
        COPIED_EXAMPLE = "copied_example", "Copies a tutorial example"
        ABUSIVE = "abusive", "Possibly abusive text"
        NEAR_MISS = "near_miss", "Narrowly missed an approval rule"
        RELABEL_DISAGREEMENT = "relabel_disagreement", "Re-labellers disagree with the label"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="flags")
    utterance = models.ForeignKey(
        Utterance, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} on conversation {self.conversation_id}"
