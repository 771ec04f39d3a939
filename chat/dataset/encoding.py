"""One conversation as text of an ESConv layout, byte-compatible with the dataset files.

`ExportRecord` is a conversation as the export reads it (plain rows, no model instances);
`raw_text` / `jsonl_line` turn one into a layout's text and `LayoutWriter` writes a whole file
of either layout one conversation at a time (see docs/dataset.md).

Only what the layout holds ever leaves: no email, worker or crowd-site identifier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from chat.dataset import DatasetError
from chat.dataset.layouts import JSONL_SPEAKERS
from crowd import vocabulary

_STRATEGIES = frozenset(vocabulary.STRATEGY_NAMES)


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


# (position, speaker, text, strategy, feedback), in conversation order.
UtteranceRow = tuple[int, str, str, str | None, int | None]


@dataclass(slots=True)
class ExportRecord:
    """What the layouts hold of one conversation (`exporting.iter_records` reads them)."""

    pk: int
    experience_type: str
    emotion_type: str
    problem_type: str
    situation: str
    initial_emotion_intensity: int | None
    # The seeker's post-chat survey: (final_emotion_intensity, empathy, relevance, question1,
    # question2), None when there is none; the supporter's: (seeker_detail, question1, question2).
    seeker_survey: tuple[int | None, int | None, int | None, str, str] | None = None
    supporter_survey: tuple[int | None, str, str] | None = None
    utterances: list[UtteranceRow] = field(default_factory=list)
    # Keys after the layout's own, only when the researcher asks (export_esconv
    # --include-safety: "safety_flags"); None in every default export.
    extra: dict[str, Any] | None = None


def _unrepresentable(record: ExportRecord, position: int, strategy: str | None) -> DatasetError:
    # The layout requires a strategy on every supporter item; writing null would produce a
    # file that our own importer (and the dataset's users) refuse.
    return DatasetError(
        f"conversation {record.pk}, utterance {position}: "
        f"supporter utterance without a valid strategy ({strategy!r})"
    )


def survey_score(record: ExportRecord) -> dict[str, dict[str, str]]:
    """The layout's `survey_score`: scores as strings, the ones never given left out."""
    seeker: dict[str, str] = {}
    if record.initial_emotion_intensity is not None:
        seeker["initial_emotion_intensity"] = str(record.initial_emotion_intensity)
    if record.seeker_survey is not None:
        final, empathy, relevance = record.seeker_survey[:3]
        for key, value in (
            ("empathy", empathy),
            ("relevance", relevance),
            ("final_emotion_intensity", final),
        ):
            if value is not None:
                seeker[key] = str(value)
    supporter: dict[str, str] = {}
    if record.supporter_survey is not None and record.supporter_survey[0] is not None:
        supporter["relevance"] = str(record.supporter_survey[0])
    return {"seeker": seeker, "supporter": supporter}


def questions(record: ExportRecord) -> dict[str, str]:
    seeker, supporter = record.seeker_survey, record.supporter_survey
    return {
        "seeker_question1": seeker[3] if seeker else "",
        "seeker_question2": seeker[4] if seeker else "",
        "supporter_question1": supporter[1] if supporter else "",
        "supporter_question2": supporter[2] if supporter else "",
    }


def _header(record: ExportRecord) -> dict[str, Any]:
    return {
        "experience_type": record.experience_type,
        "emotion_type": record.emotion_type,
        "problem_type": record.problem_type,
        "situation": record.situation,
        "survey_score": survey_score(record),
    }


def conversation_to_jsonl(record: ExportRecord) -> dict[str, Any]:
    """One conversation as a line of the released JSON-lines layout (no feedback)."""
    dialog: list[dict[str, str]] = []
    for position, speaker, text, strategy, _ in record.utterances:
        item = {"text": " ".join(text.split()), "speaker": JSONL_SPEAKERS[speaker]}
        if speaker == vocabulary.SUPPORTER:
            if strategy not in _STRATEGIES:
                raise _unrepresentable(record, position, strategy)
            item["strategy"] = strategy
        dialog.append(item)
    return {**_header(record), "dialog": dialog, **questions(record), **(record.extra or {})}


def jsonl_line(record: ExportRecord) -> str:
    """`json.dumps` of the line's dict, as the released splits were written."""
    return json.dumps(conversation_to_jsonl(record))


# --- the raw layout: json.dumps(conversations, indent=1), built faster ---------------------
#
# The standard library falls back to its pure-Python encoder whenever `indent` is set. The raw
# layout's shape is fixed, so the text is assembled here around the C string encoder: every
# dialog item but its content is one of a few dozen strings (speaker x annotation), made once.

_encode_string = json.encoder.encode_basestring_ascii


def _indented(value: Any, depth: int) -> str:
    """What `json.dumps(value, indent=1)` writes for `value` nested `depth` levels deep."""
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
        items = (_indented(v, depth + 1) for v in value)
        return "[" + inner + ("," + inner).join(items) + "\n" + " " * depth + "]"
    return json.dumps(value)


# A conversation is an item of the file's array (depth 1): its keys at depth 2, the dialog's
# items at depth 3, their keys at depth 4 and the annotation's keys at depth 5.
_ITEM_SEPARATOR = ",\n   "
_ITEM_END = "\n   }"
_item_starts: dict[tuple[str, str | None, int | None], str] = {}


def _item_start(speaker: str, strategy: str | None, feedback: int | None) -> str:
    """A dialog item's text up to its content, for one speaker and annotation."""
    key = (speaker, strategy, feedback)
    start = _item_starts.get(key)
    if start is None:
        if strategy is not None:
            annotation = '{\n     "strategy": ' + _encode_string(strategy) + "\n    }"
        elif feedback is not None:
            annotation = '{\n     "feedback": ' + _encode_string(str(feedback)) + "\n    }"
        else:
            annotation = "{}"
        start = (
            '{\n    "speaker": '
            + _encode_string(speaker)
            + ',\n    "annotation": '
            + annotation
            + ',\n    "content": '
        )
        _item_starts[key] = start
    return start


def _raw_dialog(record: ExportRecord) -> str:
    if not record.utterances:
        return "[]"
    items = []
    for position, speaker, text, strategy, feedback in record.utterances:
        if speaker == vocabulary.SUPPORTER:
            if strategy not in _STRATEGIES:
                raise _unrepresentable(record, position, strategy)
            start = _item_start(speaker, strategy, None)
        else:
            start = _item_start(speaker, None, feedback)
        items.append(start + _encode_string(text) + _ITEM_END)
    return "[\n   " + _ITEM_SEPARATOR.join(items) + "\n  ]"


def raw_text(record: ExportRecord) -> str:
    """One conversation of the raw layout as an item of the file's array (depth 1)."""
    pairs = [(key, _indented(value, 2)) for key, value in _header(record).items()]
    pairs.append(("dialog", _raw_dialog(record)))
    pairs.extend((key, _encode_string(value)) for key, value in questions(record).items())
    pairs.extend((key, _indented(value, 2)) for key, value in (record.extra or {}).items())
    body = ",\n  ".join(f"{_encode_string(key)}: {text}" for key, text in pairs)
    return "{\n  " + body + "\n }"


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

    def add_all(self, records: list[ExportRecord]) -> None:
        """Write several conversations with one write to the sink."""
        if not records:
            return
        if self.fmt == "raw":
            text = ",\n ".join(raw_text(record) for record in records)
            self.sink.write(("[\n " if self.count == 0 else ",\n ") + text)
        else:
            text = "\n".join(jsonl_line(record) for record in records)
            self.sink.write(text if self.count == 0 else "\n" + text)
        self.count += len(records)

    def add(self, record: ExportRecord) -> None:
        self.add_all([record])

    def close(self) -> None:
        if self.fmt == "raw":
            self.sink.write("[]" if self.count == 0 else "\n]")
