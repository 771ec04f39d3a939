"""What the ESConv layouts are made of, shared by import and export (see docs/dataset.md).

- ``raw``: a JSON array of conversations (speakers ``seeker``/``supporter``);
- ``jsonl``: the released JSON-lines layout (one conversation a line, dialog items
  ``{"text", "speaker": "usr"|"sys", "strategy"}``);
- ``legacy``: the raw array of the original collection's rejected conversations
  (``FailedESConv.json``): speakers ``speaker``/``listener``, strategy names from before
  the names were settled (mapped by ``crowd.vocabulary.LEGACY_STRATEGY_MAP``), and no
  open-answer keys. Read only, never written.
"""

from __future__ import annotations

from crowd import vocabulary

FORMATS = ("raw", "jsonl", "legacy")
EXPORT_FORMATS = ("raw", "jsonl")

# The file's speaker label -> ours, per layout.
SPEAKER_LABELS: dict[str, dict[str, str]] = {
    "raw": {"seeker": vocabulary.SEEKER, "supporter": vocabulary.SUPPORTER},
    "legacy": {"speaker": vocabulary.SEEKER, "listener": vocabulary.SUPPORTER},
    "jsonl": {"usr": vocabulary.SEEKER, "sys": vocabulary.SUPPORTER},
}
# Ours -> the JSON-lines label, for writing.
JSONL_SPEAKERS = {ours: label for label, ours in SPEAKER_LABELS["jsonl"].items()}

QUESTION_KEYS = (
    "seeker_question1",
    "seeker_question2",
    "supporter_question1",
    "supporter_question2",
)
TOP_LEVEL_KEYS = (
    "experience_type",
    "emotion_type",
    "problem_type",
    "situation",
    "survey_score",
    "dialog",
    *QUESTION_KEYS,
)
SEEKER_SCORE_KEYS = ("initial_emotion_intensity", "empathy", "relevance", "final_emotion_intensity")
