"""Validate one decoded ESConv record and map its labels to the current vocabulary.

Every error names the record and the field path (e.g. ``record 3, dialog[4].annotation``), so
a bad file can be fixed by hand. The layouts are described in docs/dataset.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chat.dataset import DatasetError
from chat.dataset.layouts import QUESTION_KEYS, SEEKER_SCORE_KEYS, SPEAKER_LABELS, TOP_LEVEL_KEYS
from crowd import vocabulary
from crowd.text import has_visible_text, refusal

# The released data holds supporter relevance "0" (see docs/dataset.md); everything else is 1-5.
SUPPORTER_RELEVANCE_LOW = 0
# Canonical digit strings only: "05" or " 5" would not survive a round trip unchanged.
DIGITS = re.compile(r"0|[1-9][0-9]*")
# Conversation.emotion_type / problem_type / experience_type are CharField(max_length=64).
LABEL_MAX_CHARS = 64


@dataclass(frozen=True)
class ParsedUtterance:
    speaker: str
    text: str
    strategy: str | None
    feedback: int | None


@dataclass
class ParsedConversation:
    """One validated record, with labels already mapped to the current vocabulary."""

    experience_type: str
    emotion_type: str
    problem_type: str
    situation: str
    initial_emotion_intensity: int | None
    empathy: int | None
    relevance: int | None
    final_emotion_intensity: int | None
    supporter_relevance: int | None
    seeker_question1: str
    seeker_question2: str
    supporter_question1: str
    supporter_question2: str
    utterances: list[ParsedUtterance] = field(default_factory=list)

    def fingerprint(self) -> str:
        """sha256 of the canonical form: the same conversation always gives the same value.

        The canonical form is what we store, so a raw export of an imported file is recognised
        as the same conversations when it is imported again.
        """
        canonical = {
            "experience_type": self.experience_type,
            "emotion_type": self.emotion_type,
            "problem_type": self.problem_type,
            "situation": self.situation,
            "scores": [
                self.initial_emotion_intensity,
                self.empathy,
                self.relevance,
                self.final_emotion_intensity,
                self.supporter_relevance,
            ],
            "questions": [
                self.seeker_question1,
                self.seeker_question2,
                self.supporter_question1,
                self.supporter_question2,
            ],
            "dialog": [[u.speaker, u.text, u.strategy, u.feedback] for u in self.utterances],
        }
        encoded = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    @property
    def has_seeker_survey(self) -> bool:
        return (
            self.empathy is not None
            or self.relevance is not None
            or self.final_emotion_intensity is not None
            or bool(self.seeker_question1)
            or bool(self.seeker_question2)
        )

    @property
    def has_supporter_survey(self) -> bool:
        return (
            self.supporter_relevance is not None
            or bool(self.supporter_question1)
            or bool(self.supporter_question2)
        )


def describe(value: object) -> str:
    """A JSON value as an error message names it: "the string "x"", "an array", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Record:
    """Validation helpers for one record; every error names the record and the field path."""

    def __init__(self, number: int, line: int | None, fmt: str) -> None:
        self.where = f"record {number}" if line is None else f"record {number} (line {line})"
        self.fmt = fmt

    def fail(self, path: str, message: str) -> DatasetError:
        return DatasetError(
            f"{self.where}, {path}: {message}" if path else f"{self.where}: {message}"
        )

    def mapping(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {describe(value)}")
        return value

    def keys(
        self, obj: dict[str, Any], path: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> None:
        prefix = f"{path}." if path else ""
        for key in required:
            if key not in obj:
                raise self.fail(f"{prefix}{key}", "missing")
        allowed = set(required) | set(optional)
        for key in obj:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", "unexpected key")

    def string(self, value: object, path: str, *, non_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {describe(value)}")
        if non_empty and not value.strip():
            raise self.fail(path, "must not be empty")
        # What the live chat refuses (crowd.text): NUL, which PostgreSQL cannot hold, other
        # control characters, and unpaired surrogates, which no UTF-8 text can hold.
        reason = refusal(value)
        if reason is not None:
            raise self.fail(path, reason)
        return value

    def written(self, value: object, path: str) -> str:
        """A message as the chat takes it: some visible text (not only spaces or zero-widths)."""
        text = self.string(value, path)
        if not has_visible_text(text):
            raise self.fail(path, "has no visible text (the live chat refuses such a message)")
        return text

    def label(self, value: object, path: str) -> str:
        text = self.string(value, path, non_empty=True)
        if len(text) > LABEL_MAX_CHARS:
            raise self.fail(path, f"longer than {LABEL_MAX_CHARS} characters")
        return text

    def score(self, value: object, path: str, low: int = 1, high: int = 5) -> int:
        if not isinstance(value, str):
            raise self.fail(
                path, f'scores are digit strings such as "4"; got {describe(value)} instead'
            )
        if not DIGITS.fullmatch(value):
            shown = json.dumps(value) if len(value) <= 20 else f'{json.dumps(value[:20])[:-1]}…"'
            raise self.fail(path, f'scores are digit strings such as "4"; got {shown}')
        # A digit string of thousands of digits is out of range, never an int to convert.
        if len(value) > len(str(high)) or not low <= int(value) <= high:
            shown = value if len(value) <= 20 else f"a number of {len(value)} digits"
            raise self.fail(path, f"{shown} is not between {low} and {high}")
        return int(value)

    def strategy(self, value: object, path: str) -> str:
        name = self.string(value, path)
        if self.fmt == "legacy":
            name = vocabulary.LEGACY_STRATEGY_MAP.get(name, name)
        if name not in vocabulary.STRATEGY_NAMES:
            known = list(vocabulary.STRATEGY_NAMES)
            if self.fmt == "legacy":
                known += list(vocabulary.LEGACY_STRATEGY_MAP)
            raise self.fail(
                path, f"unknown strategy {json.dumps(value)} (expected one of {', '.join(known)})"
            )
        return name

    def speaker(self, value: object, path: str) -> str:
        labels = SPEAKER_LABELS[self.fmt]
        if not isinstance(value, str) or value not in labels:
            expected = " or ".join(json.dumps(label) for label in labels)
            raise self.fail(path, f"unknown speaker {describe(value)} (expected {expected})")
        return labels[value]


def _parse_dialog_item(record: _Record, value: object, path: str) -> ParsedUtterance:
    item = record.mapping(value, path)
    if record.fmt == "jsonl":
        record.keys(item, path, ("text", "speaker"), ("strategy",))
        speaker = record.speaker(item["speaker"], f"{path}.speaker")
        text = record.written(item["text"], f"{path}.text")
        if speaker == vocabulary.SUPPORTER:
            if "strategy" not in item:
                raise record.fail(f"{path}.strategy", "missing (every sys item carries one)")
            return ParsedUtterance(
                speaker, text, record.strategy(item["strategy"], f"{path}.strategy"), None
            )
        if "strategy" in item:
            raise record.fail(f"{path}.strategy", "a usr (seeker) item carries no strategy")
        return ParsedUtterance(speaker, text, None, None)

    record.keys(item, path, ("speaker", "annotation", "content"))
    speaker = record.speaker(item["speaker"], f"{path}.speaker")
    text = record.written(item["content"], f"{path}.content")
    annotation = record.mapping(item["annotation"], f"{path}.annotation")
    apath = f"{path}.annotation"
    if speaker == vocabulary.SUPPORTER:
        if "feedback" in annotation:
            raise record.fail(f"{apath}.feedback", "only seeker items carry feedback")
        record.keys(annotation, apath, ("strategy",))
        return ParsedUtterance(
            speaker, text, record.strategy(annotation["strategy"], f"{apath}.strategy"), None
        )
    if "strategy" in annotation:
        raise record.fail(f"{apath}.strategy", "a seeker item carries no strategy")
    record.keys(annotation, apath, (), ("feedback",))
    feedback = None
    if "feedback" in annotation:
        feedback = record.score(annotation["feedback"], f"{apath}.feedback")
    return ParsedUtterance(speaker, text, None, feedback)


def parse_record(
    value: object, *, number: int, fmt: str, line: int | None = None
) -> ParsedConversation:
    """Validate one decoded record of layout `fmt`; raise DatasetError naming the bad field."""
    record = _Record(number, line, fmt)
    obj = record.mapping(value, "")
    # The legacy file has no open-answer keys; the two current layouts always carry them.
    required = TOP_LEVEL_KEYS if fmt != "legacy" else TOP_LEVEL_KEYS[:6]
    optional = QUESTION_KEYS if fmt == "legacy" else ()
    record.keys(obj, "", required, optional)

    experience = record.string(obj["experience_type"], "experience_type")
    if experience not in vocabulary.EXPERIENCE_TYPES:
        expected = " or ".join(json.dumps(e) for e in vocabulary.EXPERIENCE_TYPES)
        raise record.fail("experience_type", f"{json.dumps(experience)} is not {expected}")

    survey = record.mapping(obj["survey_score"], "survey_score")
    record.keys(survey, "survey_score", ("seeker", "supporter"))
    seeker = record.mapping(survey["seeker"], "survey_score.seeker")
    record.keys(seeker, "survey_score.seeker", (), SEEKER_SCORE_KEYS)
    supporter = record.mapping(survey["supporter"], "survey_score.supporter")
    record.keys(supporter, "survey_score.supporter", (), ("relevance",))
    seeker_scores = {
        key: record.score(seeker[key], f"survey_score.seeker.{key}") if key in seeker else None
        for key in SEEKER_SCORE_KEYS
    }
    supporter_relevance = None
    if "relevance" in supporter:
        supporter_relevance = record.score(
            supporter["relevance"], "survey_score.supporter.relevance", low=SUPPORTER_RELEVANCE_LOW
        )

    dialog = obj["dialog"]
    if not isinstance(dialog, list):
        raise record.fail("dialog", f"expected an array, got {describe(dialog)}")
    if not dialog:
        raise record.fail("dialog", "must hold at least one utterance")
    utterances = [
        _parse_dialog_item(record, item, f"dialog[{index}]") for index, item in enumerate(dialog)
    ]

    questions = {key: record.string(obj[key], key) if key in obj else "" for key in QUESTION_KEYS}
    return ParsedConversation(
        experience_type=experience,
        emotion_type=record.label(obj["emotion_type"], "emotion_type"),
        problem_type=record.label(obj["problem_type"], "problem_type"),
        situation=record.string(obj["situation"], "situation"),
        initial_emotion_intensity=seeker_scores["initial_emotion_intensity"],
        empathy=seeker_scores["empathy"],
        relevance=seeker_scores["relevance"],
        final_emotion_intensity=seeker_scores["final_emotion_intensity"],
        supporter_relevance=supporter_relevance,
        utterances=utterances,
        **questions,
    )
