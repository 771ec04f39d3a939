"""The supporter contract's values: a request, a reply, and the one error every backend raises.

This module imports nothing from Django, so the reference server (scripts/reference_supporter.py)
and the retrieval bench can use it without settings. The JSON shapes are in docs/evaluation.md,
"The HTTP contract".

Error messages name the field that is wrong and never quote a value a person wrote: they end up
in logs and on the staff pages, and a conversation's text is personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from crowd import vocabulary

CONTRACT = "esc-supporter/1"
MAX_REPLY_CHARS = 2000
SPEAKERS = (vocabulary.SEEKER, vocabulary.SUPPORTER)
SURVEY_TEXT_KEYS = ("experience_type", "emotion_type", "problem_type", "situation")
SURVEY_KEYS = (*SURVEY_TEXT_KEYS, "initial_emotion_intensity")
# The JSON-lines layout's speaker labels, and the raw layout's own, both mean ours.
RECORD_SPEAKERS = {
    "usr": vocabulary.SEEKER,
    "sys": vocabulary.SUPPORTER,
    vocabulary.SEEKER: vocabulary.SEEKER,
    vocabulary.SUPPORTER: vocabulary.SUPPORTER,
}
_STRATEGIES = frozenset(vocabulary.STRATEGY_NAMES)


class BackendError(Exception):
    """A reply that could not be had; `code` is a short slug the caller can count and show.

    timeout, unreachable, bad_status, bad_json, bad_reply (a backend's answer), no_data (a
    retrieval index with nothing to offer), bad_request (the request itself is unusable).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _bad(code: str, where: str, problem: str) -> BackendError:
    return BackendError(code, f"{where}: {problem}")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_strategy(value: Any, where: str, code: str) -> str:
    if not isinstance(value, str):
        raise _bad(code, where, f"must be a string, not {_type_name(value)}")
    if value not in _STRATEGIES:
        raise _bad(code, where, "is not one of the eight strategies of crowd.vocabulary")
    return value


@dataclass(frozen=True)
class Turn:
    """One utterance of the dialog so far; `strategy` only on the supporter's."""

    speaker: str
    text: str
    strategy: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "text": self.text, "strategy": self.strategy}


@dataclass(frozen=True)
class Reply:
    """The supporter's next message: one of the eight strategies and 1-2000 visible characters."""

    strategy: str
    text: str

    def __post_init__(self) -> None:
        _check_strategy(self.strategy, "strategy", "bad_reply")
        if not self.text.strip():
            raise _bad("bad_reply", "text", "is empty")
        if len(self.text.strip()) > MAX_REPLY_CHARS:
            raise _bad("bad_reply", "text", f"is longer than {MAX_REPLY_CHARS} characters")


def validate_reply(data: Any) -> Reply:
    """A backend's decoded JSON answer as a Reply (keys other than the two are ignored)."""
    if not isinstance(data, dict):
        raise BackendError("bad_reply", f"the reply must be a JSON object, not {_type_name(data)}")
    for key in ("strategy", "text"):
        if key not in data:
            raise _bad("bad_reply", key, "is missing")
    text = data["text"]
    if not isinstance(text, str):
        raise _bad("bad_reply", "text", f"must be a string, not {_type_name(text)}")
    return Reply(
        strategy=_check_strategy(data["strategy"], "strategy", "bad_reply"), text=text.strip()
    )


def _survey_from_json(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad("bad_request", "survey", f"must be an object, not {_type_name(value)}")
    survey: dict[str, Any] = {}
    for key in SURVEY_TEXT_KEYS:
        if not isinstance(value.get(key), str):
            raise _bad("bad_request", f"survey.{key}", "must be a string")
        survey[key] = value[key]
    survey["initial_emotion_intensity"] = _intensity(
        value.get("initial_emotion_intensity"), "survey.initial_emotion_intensity"
    )
    return survey


def _intensity(value: Any, where: str) -> int | None:
    # bool is an int to Python, not to JSON's readers: true is not an intensity.
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _bad("bad_request", where, f"must be a whole number or null, not {_type_name(value)}")


def _turn_from_json(value: Any, where: str) -> Turn:
    if not isinstance(value, dict):
        raise _bad("bad_request", where, f"must be an object, not {_type_name(value)}")
    speaker, text, strategy = value.get("speaker"), value.get("text"), value.get("strategy")
    if speaker not in SPEAKERS:
        raise _bad("bad_request", f"{where}.speaker", "must be 'seeker' or 'supporter'")
    if not isinstance(text, str):
        raise _bad("bad_request", f"{where}.text", f"must be a string, not {_type_name(text)}")
    if speaker == vocabulary.SEEKER and strategy is not None:
        raise _bad("bad_request", f"{where}.strategy", "must be null on a seeker's turn")
    if speaker == vocabulary.SUPPORTER and strategy is not None:
        _check_strategy(strategy, f"{where}.strategy", "bad_request")
    return Turn(speaker=speaker, text=text, strategy=strategy)


def _dialog_from_json(value: Any) -> tuple[Turn, ...]:
    if not isinstance(value, list):
        raise _bad("bad_request", "dialog", f"must be an array, not {_type_name(value)}")
    return tuple(_turn_from_json(item, f"dialog[{index}]") for index, item in enumerate(value))


@dataclass(frozen=True)
class SupporterRequest:
    """What a backend is asked: the seeker's pre-chat survey and the dialog so far.

    `strategy` is the strategy the reply must use (the Oracle mode), None otherwise;
    `conversation` is an opaque id, the same for every request of one conversation.
    """

    survey: dict[str, Any]
    dialog: tuple[Turn, ...] = ()
    strategy: str | None = None
    conversation: str = ""

    def to_json(self) -> dict[str, Any]:
        """The HTTP request body of the contract."""
        return {
            "contract": CONTRACT,
            "conversation": self.conversation,
            "survey": {key: self.survey.get(key) for key in SURVEY_KEYS},
            "dialog": [turn.to_json() for turn in self.dialog],
            "strategy": self.strategy,
        }

    @classmethod
    def from_json(cls, data: Any) -> SupporterRequest:
        """A request body, validated; a BackendError("bad_request") names the first bad field."""
        if not isinstance(data, dict):
            raise BackendError(
                "bad_request", f"the request must be an object, not {_type_name(data)}"
            )
        if data.get("contract") != CONTRACT:
            raise _bad("bad_request", "contract", f"must be {CONTRACT!r}")
        conversation = data.get("conversation", "")
        if not isinstance(conversation, str):
            raise _bad("bad_request", "conversation", "must be a string")
        strategy = data.get("strategy")
        if strategy is not None:
            _check_strategy(strategy, "strategy", "bad_request")
        return cls(
            survey=_survey_from_json(data.get("survey")),
            dialog=_dialog_from_json(data.get("dialog")),
            strategy=strategy,
            conversation=conversation,
        )

    @classmethod
    def from_jsonl_record(cls, record: Any, upto: int | None = None) -> SupporterRequest:
        """One conversation of the ESConv JSON-lines layout; with `upto`, its first items only."""
        if not isinstance(record, dict):
            raise BackendError(
                "bad_request", f"a conversation is an object, not {_type_name(record)}"
            )
        return cls(survey=record_survey(record), dialog=record_dialog(record)[:upto])

    def with_strategy(self, strategy: str | None) -> SupporterRequest:
        if strategy is not None:
            _check_strategy(strategy, "strategy", "bad_request")
        return replace(self, strategy=strategy)


def record_survey(record: Mapping[str, Any]) -> dict[str, Any]:
    """The survey of a layout record: its four labels and the initial intensity (a digit string)."""
    survey: dict[str, Any] = {}
    for key in SURVEY_TEXT_KEYS:
        if not isinstance(record.get(key), str):
            raise _bad("bad_request", key, "must be a string")
        survey[key] = record[key]
    scores = record.get("survey_score")
    seeker = scores.get("seeker") if isinstance(scores, dict) else None
    value = seeker.get("initial_emotion_intensity") if isinstance(seeker, dict) else None
    if value is not None and not (isinstance(value, str) and value.isdigit() and len(value) < 3):
        raise _bad("bad_request", "survey_score.seeker.initial_emotion_intensity", "must be digits")
    survey["initial_emotion_intensity"] = None if value is None else int(value)
    return survey


def record_dialog(record: Mapping[str, Any]) -> tuple[Turn, ...]:
    """The dialog of a JSON-lines record ("usr"/"sys"; "seeker"/"supporter" are accepted too)."""
    dialog = record.get("dialog")
    if not isinstance(dialog, list):
        raise _bad("bad_request", "dialog", "must be an array")
    turns = []
    for index, item in enumerate(dialog):
        where = f"dialog[{index}]"
        if not isinstance(item, dict):
            raise _bad("bad_request", where, "must be an object")
        speaker = RECORD_SPEAKERS.get(item.get("speaker"))  # type: ignore[arg-type]
        if speaker is None:
            raise _bad("bad_request", f"{where}.speaker", "must be 'usr' or 'sys'")
        if not isinstance(item.get("text"), str):
            raise _bad("bad_request", f"{where}.text", "must be a string")
        strategy = None
        if speaker == vocabulary.SUPPORTER:
            strategy = _check_strategy(item.get("strategy"), f"{where}.strategy", "bad_request")
        turns.append(Turn(speaker=speaker, text=item["text"], strategy=strategy))
    return tuple(turns)


class Backend(Protocol):
    """Anything that writes the supporter's next message; raises BackendError when it cannot."""

    def reply(self, request: SupporterRequest) -> Reply: ...
