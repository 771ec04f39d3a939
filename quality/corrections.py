"""Reviewers' corrections: a strategy label or an initial emotion intensity, with the original kept.

The corrected value is written into the chat record, so exports use it; `Correction` keeps the
original value, who changed it and why. A correction needs the reviewer's claim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from chat.models import Conversation, Utterance
from crowd import vocabulary
from quality.errors import QualityError
from quality.models import Correction
from quality.review import require_claim

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def correct_strategy(
    utterance: Utterance, reviewer: User, strategy: str, reason: str = ""
) -> Correction:
    """Write a corrected strategy into the utterance; keep the original in a Correction."""
    if strategy not in vocabulary.STRATEGY_NAMES:
        raise QualityError(f"unknown strategy {strategy!r}")
    if utterance.speaker != vocabulary.SUPPORTER:
        raise QualityError("only supporter utterances carry a strategy")
    require_claim(utterance.conversation, reviewer)
    with transaction.atomic():
        current = Utterance.objects.select_for_update().get(pk=utterance.pk)
        if current.strategy == strategy:
            raise QualityError("the utterance already has this strategy")
        correction = Correction.objects.create(
            conversation_id=current.conversation_id,
            utterance=current,
            field=Correction.Field.STRATEGY,
            original_value=current.strategy or "",
            new_value=strategy,
            corrected_by=reviewer,
            reason=reason.strip(),
        )
        Utterance.objects.filter(pk=current.pk).update(strategy=strategy)
    utterance.strategy = strategy
    return correction


def correct_initial_intensity(
    conversation: Conversation, reviewer: User, value: int, reason: str = ""
) -> Correction:
    """Write a corrected initial emotion intensity (1–5); keep the original in a Correction."""
    if not 1 <= value <= 5:
        raise QualityError("emotion intensity must be between 1 and 5")
    require_claim(conversation, reviewer)
    with transaction.atomic():
        current = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if current.initial_emotion_intensity == value:
            raise QualityError("the conversation already has this intensity")
        original = current.initial_emotion_intensity
        correction = Correction.objects.create(
            conversation=current,
            field=Correction.Field.INITIAL_EMOTION_INTENSITY,
            original_value="" if original is None else str(original),
            new_value=str(value),
            corrected_by=reviewer,
            reason=reason.strip(),
        )
        Conversation.objects.filter(pk=current.pk).update(initial_emotion_intensity=value)
    conversation.initial_emotion_intensity = value
    return correction
