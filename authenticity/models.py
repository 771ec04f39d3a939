"""What the live checks keep of each message (docs/authenticity.md, "Duplicates in a run").

`Checked` marks a stored message as judged, so the quality job can judge what a process that
died never did. `Band` holds the LSH band keys of a long message's MinHash signature: two
messages of one run and role that share a key are candidates, compared word for word.
"""

from __future__ import annotations

from django.db import models

from chat.models import Conversation, Utterance
from crowd.models import CollectionRun


class Checked(models.Model):
    """A stored message the live authenticity checks have judged."""

    utterance = models.OneToOneField(
        Utterance, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self) -> str:
        return f"checked {self.utterance_id}"


class Band(models.Model):
    """One band key of one long message's signature, for finding its near-duplicates."""

    run = models.ForeignKey(
        CollectionRun, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    speaker = models.CharField(max_length=16)
    key = models.BigIntegerField()
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    # The message's position in its conversation (Utterance.position): a place, not a key, so
    # that a message costs two indexes, not three.
    position = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key"], name="authenticity_band_key")]

    def __str__(self) -> str:
        return f"band {self.key} of {self.conversation_id}:{self.position}"
