"""One conversation as text of an ESConv layout, byte-compatible with the dataset files.

`conversation_to_raw` / `conversation_to_jsonl` build a layout's dict; `LayoutWriter` writes a
whole file of either layout one conversation at a time (see docs/dataset.md).

Only what the layout holds ever leaves: no email, worker or crowd-site identifier.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from django.core.exceptions import ObjectDoesNotExist

from chat.dataset import DatasetError
from chat.dataset.layouts import JSONL_SPEAKERS
from chat.models import Conversation, Utterance
from crowd import vocabulary


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


def _related(conversation: Conversation, name: str) -> Any:
    try:
        return getattr(conversation, name)
    except ObjectDoesNotExist:
        return None


def _checked_utterances(conversation: Conversation) -> list[Utterance]:
    utterances = list(conversation.utterances.all())
    for utterance in utterances:
        if utterance.speaker == vocabulary.SUPPORTER and (
            utterance.strategy not in vocabulary.STRATEGY_NAMES
        ):
            # The layout requires a strategy on every supporter item; writing null would
            # produce a file that our own importer (and the dataset's users) refuse.
            raise DatasetError(
                f"conversation {conversation.pk}, utterance {utterance.position}: "
                f"supporter utterance without a valid strategy ({utterance.strategy!r})"
            )
    return utterances


def _survey_score(conversation: Conversation) -> dict[str, dict[str, str]]:
    seeker: dict[str, str] = {}
    if conversation.initial_emotion_intensity is not None:
        seeker["initial_emotion_intensity"] = str(conversation.initial_emotion_intensity)
    seeker_survey = _related(conversation, "seeker_survey")
    if seeker_survey is not None:
        for key in ("empathy", "relevance", "final_emotion_intensity"):
            value = getattr(seeker_survey, key)
            if value is not None:
                seeker[key] = str(value)
    supporter: dict[str, str] = {}
    supporter_survey = _related(conversation, "supporter_survey")
    if supporter_survey is not None and supporter_survey.seeker_detail is not None:
        supporter["relevance"] = str(supporter_survey.seeker_detail)
    return {"seeker": seeker, "supporter": supporter}


def _questions(conversation: Conversation) -> dict[str, str]:
    seeker_survey = _related(conversation, "seeker_survey")
    supporter_survey = _related(conversation, "supporter_survey")
    return {
        "seeker_question1": seeker_survey.question1 if seeker_survey else "",
        "seeker_question2": seeker_survey.question2 if seeker_survey else "",
        "supporter_question1": supporter_survey.question1 if supporter_survey else "",
        "supporter_question2": supporter_survey.question2 if supporter_survey else "",
    }


def _header(conversation: Conversation) -> dict[str, Any]:
    return {
        "experience_type": conversation.experience_type,
        "emotion_type": conversation.emotion_type,
        "problem_type": conversation.problem_type,
        "situation": conversation.situation,
        "survey_score": _survey_score(conversation),
    }


def conversation_to_raw(conversation: Conversation) -> dict[str, Any]:
    """One conversation as the raw layout's dict, keys in the layout's order.

    Expects utterances and both surveys prefetched (`exporting.iter_prefetched` does);
    otherwise it still works, with a few queries.
    """
    dialog: list[dict[str, Any]] = []
    for utterance in _checked_utterances(conversation):
        annotation: dict[str, str] = {}
        if utterance.speaker == vocabulary.SUPPORTER:
            annotation["strategy"] = str(utterance.strategy)
        elif utterance.feedback is not None:
            annotation["feedback"] = str(utterance.feedback)
        dialog.append(
            {"speaker": utterance.speaker, "annotation": annotation, "content": utterance.text}
        )
    return {**_header(conversation), "dialog": dialog, **_questions(conversation)}


def conversation_to_jsonl(conversation: Conversation) -> dict[str, Any]:
    """One conversation as a line of the released JSON-lines layout (no feedback)."""
    dialog: list[dict[str, str]] = []
    for utterance in _checked_utterances(conversation):
        item = {
            "text": " ".join(utterance.text.split()),
            "speaker": JSONL_SPEAKERS[utterance.speaker],
        }
        if utterance.speaker == vocabulary.SUPPORTER:
            item["strategy"] = str(utterance.strategy)
        dialog.append(item)
    return {**_header(conversation), "dialog": dialog, **_questions(conversation)}


_encode_string = json.encoder.encode_basestring_ascii


def _indented(value: Any, depth: int) -> str:
    """What `json.dumps(value, indent=1)` writes for `value` nested `depth` levels deep.

    The standard library falls back to its pure-Python encoder whenever `indent` is set, which
    made JSON the largest cost of a raw export; this builds the same text around the C string
    encoder.
    """
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "\n" + " " * (depth + 1)
        items = (f"{_encode_string(k)}: {_indented(v, depth + 1)}" for k, v in value.items())
        return "{" + inner + ("," + inner).join(items) + "\n" + " " * depth + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = "\n" + " " * (depth + 1)
        return (
            "["
            + inner
            + ("," + inner).join(_indented(v, depth + 1) for v in value)
            + "\n"
            + " " * depth
            + "]"
        )
    return json.dumps(value)


class LayoutWriter:
    """Writes one file of either layout incrementally, byte-compatible with the dataset files.

    raw: `json.dumps(conversations, indent=1)` as FailedESConv.json is written; jsonl: one
    `json.dumps(conversation)` a line, no trailing newline, as the released splits. Both escape
    non-ASCII characters (`ensure_ascii`), as both dataset files do.
    """

    def __init__(self, sink: TextSink, fmt: str) -> None:
        self.sink = sink
        self.fmt = fmt
        self.count = 0

    def add(self, conversation: Conversation) -> None:
        if self.fmt == "raw":
            body = _indented(conversation_to_raw(conversation), 1)
            self.sink.write(("[\n " if self.count == 0 else ",\n ") + body)
        else:
            line = json.dumps(conversation_to_jsonl(conversation))
            self.sink.write(line if self.count == 0 else "\n" + line)
        self.count += 1

    def close(self) -> None:
        if self.fmt == "raw":
            self.sink.write("[]" if self.count == 0 else "\n]")
