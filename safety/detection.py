"""Safety detection on one message, or many: which categories it raises, how sure, and why.

A pure library: no database, no network, no file written. Both halves read the message after
the lexicon's figure-of-speech vetoes are blanked out of it:

- the lexicon (lexicon.yaml) catches the phrasings we know, with a fixed high score;
- the model (safety.model) generalises to wordings the lexicon lacks, scoring a probability.

A category is reported when either half reaches its threshold (categories.THRESHOLDS); the
score is the higher of the two, and `reason` says which half (or both) spoke.

    >>> from safety.detection import detect
    >>> [h.category for h in detect("everyone would be better off without me", "seeker")]
    ['suicide_self_harm']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from safety.categories import THRESHOLDS, categories_for
from safety.lexicon import load_lexicon
from safety.model import model_for
from safety.text import normalise

Reason = Literal["lexicon", "model", "both"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One category a message raises."""

    category: str
    score: float  # 0..1
    reason: Reason
    phrase: str | None = None  # the lexicon's match, normalised; None for the model alone


def warm_up() -> None:
    """Load the lexicon and train both models now, so the first message is not the slow one."""
    load_lexicon()
    for speaker in ("seeker", "supporter"):
        model_for(speaker)


def detect(text: str, speaker: str) -> list[Hit]:
    """The categories `text`, written by `speaker` ("seeker"|"supporter"), raises.

    Scores one message through the model's plain-numpy path: the live chat calls this once
    per message, and sklearn's own per-call overhead alone is about a millisecond.
    """
    lexicon = load_lexicon()
    cleaned = lexicon.blank_vetoes(normalise(text))
    return _hits(cleaned, speaker, model_for(speaker).probability(cleaned))


def detect_many(texts: Sequence[str], speaker: str) -> list[list[Hit]]:
    """`detect` for many messages of one speaker: the model reads them in one batch.

    Hits of a message are ordered by score, highest first.
    """
    categories_for(speaker)
    lexicon = load_lexicon()
    cleaned = [lexicon.blank_vetoes(normalise(text)) for text in texts]
    probabilities = model_for(speaker).probabilities(cleaned)
    return [_hits(t, speaker, p) for t, p in zip(cleaned, probabilities, strict=True)]


def _hits(cleaned: str, speaker: str, probs: dict[str, float]) -> list[Hit]:
    """Hits of one cleaned message, given the model's probabilities; highest score first."""
    matched = load_lexicon().matches(cleaned, speaker)
    hits = [_hit(c, matched.get(c), probs.get(c, 0.0)) for c in categories_for(speaker)]
    return sorted((h for h in hits if h is not None), key=lambda h: -h.score)


def _hit(category: str, matched: tuple[float, str] | None, probability: float) -> Hit | None:
    """Combine the two halves' verdicts on one category; None when neither reaches it."""
    threshold = THRESHOLDS[category]
    by_model = probability >= threshold
    if matched is None:
        return Hit(category, round(probability, 4), "model") if by_model else None
    weight, phrase = matched
    reason: Reason = "both" if by_model else "lexicon"
    return Hit(category, round(max(weight, probability), 4), reason, phrase)
