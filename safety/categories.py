"""The safety categories, who they are about, and the score a hit needs.

Seeker categories are about a person who may be in danger; supporter categories are about
conduct towards the seeker. They are kept apart so a seeker describing abuse is never taken
for a supporter being abusive, and the other way round.
"""

from __future__ import annotations

from typing import Final

SEEKER: Final = "seeker"
SUPPORTER: Final = "supporter"
SPEAKERS: Final[tuple[str, ...]] = (SEEKER, SUPPORTER)

SEEKER_CATEGORIES: Final[tuple[str, ...]] = (
    "suicide_self_harm",
    "harmed_by_others",
    "medical_danger",
)
SUPPORTER_CATEGORIES: Final[tuple[str, ...]] = ("abusive", "sexual", "demeaning")

CATEGORIES_BY_SPEAKER: Final[dict[str, tuple[str, ...]]] = {
    SEEKER: SEEKER_CATEGORIES,
    SUPPORTER: SUPPORTER_CATEGORIES,
}

# The score (0..1) from which a category is reported. A lexicon match scores its category's
# weight (lexicon.yaml, 0.9-0.95), so it always passes; the model alone must reach this
# probability. 0.5 (the most likely class, in practice) except for two seeker categories
# where the released ESConv scan justified more (docs/safety.md): every model-only
# suicide_self_harm flag there scored below 0.63 and was wrong on reading, as were the two
# harmed_by_others ones (below 0.56), while no held-out phrasing of either category relied on
# the model below those bars. The lexicon still reads every message at its full weight.
THRESHOLDS: Final[dict[str, float]] = {
    "suicide_self_harm": 0.65,
    "harmed_by_others": 0.6,
    "medical_danger": 0.5,
    "abusive": 0.5,
    "sexual": 0.5,
    "demeaning": 0.5,
}

# The model's "nothing to report" class.
NONE: Final = "none"


def categories_for(speaker: str) -> tuple[str, ...]:
    """The categories read in this speaker's messages; a ValueError for any other speaker."""
    try:
        return CATEGORIES_BY_SPEAKER[speaker]
    except KeyError:
        raise ValueError(f"speaker must be seeker or supporter, not {speaker!r}") from None
