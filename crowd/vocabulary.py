"""The protocol's vocabulary: one source of truth for every list the platform uses.

Spellings are exactly those of the released ESConv dataset. Import these names
everywhere; never write a strategy, problem or emotion list a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Stage:
    key: str
    name: str


@dataclass(frozen=True)
class Strategy:
    name: str  # dataset spelling, stored in Utterance.strategy and exported as is
    code: str  # the paper's abbreviation
    stage: str  # the stage key where it is mostly used ("any" for Others)


STAGES: Final[tuple[Stage, ...]] = (
    Stage("exploration", "Exploration"),
    Stage("comforting", "Comforting"),
    Stage("action", "Action"),
)

STRATEGIES: Final[tuple[Strategy, ...]] = (
    Strategy("Question", "Qu", "exploration"),
    Strategy("Restatement or Paraphrasing", "RP", "exploration"),
    Strategy("Reflection of feelings", "RF", "comforting"),
    Strategy("Self-disclosure", "SD", "comforting"),
    Strategy("Affirmation and Reassurance", "AR", "comforting"),
    Strategy("Providing Suggestions", "PS", "action"),
    Strategy("Information", "In", "action"),
    Strategy("Others", "Ot", "any"),
)
STRATEGY_NAMES: Final[tuple[str, ...]] = tuple(s.name for s in STRATEGIES)
STRATEGY_CHOICES: Final[list[tuple[str, str]]] = [(s.name, s.name) for s in STRATEGIES]

# Labels used by the original collection before the names were settled
# (FailedESConv.json). Import maps them; export always writes the current names.
LEGACY_STRATEGY_MAP: Final[dict[str, str]] = {
    "Questions": "Question",
    "Other": "Others",
    "Approval and Reassurance": "Affirmation and Reassurance",
    "Restatement": "Restatement or Paraphrasing",
    "Direct Guidance": "Providing Suggestions",
}

DEFAULT_PROBLEMS: Final[tuple[str, ...]] = (
    "ongoing depression",
    "job crisis",
    "breakup with partner",
    "problems with friends",
    "academic pressure",
)
DATASET_PROBLEMS: Final[tuple[str, ...]] = (
    *DEFAULT_PROBLEMS,
    "Sleep Problems",
    "Procrastination",
    "Appearance Anxiety",
    "Alcohol Abuse",
    "conflict with parents",
    "Issues with Children",
    "Issues with Parents",
    "School Bullying",
)

DEFAULT_EMOTIONS: Final[tuple[str, ...]] = (
    "anxiety",
    "depression",
    "sadness",
    "anger",
    "fear",
    "disgust",
    "shame",
)
DATASET_EMOTIONS: Final[tuple[str, ...]] = (
    *DEFAULT_EMOTIONS,
    "nervousness",
    "guilt",
    "jealousy",
    "pain",
)

EXPERIENCE_TYPES: Final[tuple[str, ...]] = ("Current Experience", "Previous Experience")

SEEKER = "seeker"
SUPPORTER = "supporter"
ROLE_CHOICES: Final[list[tuple[str, str]]] = [(SEEKER, "Help-seeker"), (SUPPORTER, "Supporter")]
# A staff member watching a chat read-only: a role on the websocket, never a worker's role.
STAFF = "staff"
CHAT_ROLES: Final[tuple[str, ...]] = (SEEKER, SUPPORTER, STAFF)

FEEDBACK_QUESTION: Final[str] = "Do those messages help you feel better?"
