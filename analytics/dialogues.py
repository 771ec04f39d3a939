"""What the report reads of a conversation, from a collection run or from an ESConv file.

Both sources become the same `Dialogue`: its labels, the seeker's intensities and the
utterances in order. A run is read a chunk at a time through the export's own reader
(chat.dataset.exporting), so a report sees exactly the conversations an export would write;
files go through the importer's reader and validation (chat.dataset.reading).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from chat.dataset.encoding import ExportRecord
from chat.dataset.exporting import exportable_conversations, iter_records
from chat.dataset.reading import read_files
from chat.dataset.validating import ParsedConversation
from crowd.models import CollectionRun

# (speaker, text, strategy, feedback), in conversation order.
Turn = tuple[str, str, str | None, int | None]


@dataclass(slots=True)
class Dialogue:
    problem: str
    emotion: str
    initial_intensity: int | None
    final_intensity: int | None
    turns: list[Turn]


def from_record(record: ExportRecord) -> Dialogue:
    final = record.seeker_survey[0] if record.seeker_survey is not None else None
    return Dialogue(
        problem=record.problem_type,
        emotion=record.emotion_type,
        initial_intensity=record.initial_emotion_intensity,
        final_intensity=final,
        turns=[
            (speaker, text, strategy, feedback)
            for _, speaker, text, strategy, feedback in (record.utterances)
        ],
    )


def from_parsed(parsed: ParsedConversation) -> Dialogue:
    return Dialogue(
        problem=parsed.problem_type,
        emotion=parsed.emotion_type,
        initial_intensity=parsed.initial_emotion_intensity,
        final_intensity=parsed.final_emotion_intensity,
        turns=[(u.speaker, u.text, u.strategy, u.feedback) for u in parsed.utterances],
    )


def run_dialogues(run: CollectionRun | None, status: str = "approved") -> Iterator[Dialogue]:
    """The conversations an export of this run (all runs: None) with `status` would write."""
    for record in iter_records(exportable_conversations(status=status, run=run)):
        yield from_record(record)


def file_dialogues(paths: Iterable[Path]) -> Iterator[Dialogue]:
    """Every conversation of the files (chat.dataset.reading.read_files), as dialogues."""
    for conversation in read_files(paths):
        yield from_parsed(conversation)
