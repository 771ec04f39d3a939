"""Scanning whole conversations (ESConv files or a collection run) for safety flags.

Sources are read through the dataset's own readers, so a scan sees what an import would
validate (files) or what an export would write (runs). Conversations are scanned a chunk at a time,
each speaker's lines of a chunk in one model batch, so a run is never held in memory whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chat.dataset.exporting import exportable_conversations, iter_records
from chat.dataset.reading import read_files
from crowd.models import CollectionRun
from safety.categories import SPEAKERS
from safety.detection import detect_many

# (position, speaker, text) of one utterance.
Line = tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class Flag:
    conversation: int  # index in the input (files) or conversation id (runs)
    position: int
    speaker: str
    category: str
    score: float
    text: str

    def as_json(self) -> dict[str, object]:
        return {
            "conversation": self.conversation,
            "position": self.position,
            "speaker": self.speaker,
            "category": self.category,
            "score": self.score,
        }


@dataclass(slots=True)
class ScanResult:
    conversations: int = 0
    messages: int = 0
    flags: list[Flag] = field(default_factory=list)

    @property
    def flagged_conversations(self) -> int:
        return len({flag.conversation for flag in self.flags})

    def as_json(self) -> dict[str, object]:
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "flagged_conversations": self.flagged_conversations,
            "flags": [flag.as_json() for flag in self.flags],
        }


# Conversations scanned together: the model reads their lines in one batch per speaker, which
# is ten times faster than a batch per conversation, and a chunk is small enough to hold.
CHUNK = 200


def scan_chunk(chunk: list[tuple[int, list[Line]]]) -> list[Flag]:
    """The flags of these conversations' utterances, by conversation then position."""
    flags: list[Flag] = []
    for speaker in SPEAKERS:
        mine = [
            (key, pos, text) for key, lines in chunk for pos, who, text in lines if who == speaker
        ]
        hits = detect_many([text for _, _, text in mine], speaker)
        for (key, position, text), found in zip(mine, hits, strict=True):
            flags += [Flag(key, position, speaker, h.category, h.score, text) for h in found]
    order = {key: i for i, (key, _) in enumerate(chunk)}
    return sorted(flags, key=lambda f: (order[f.conversation], f.position, -f.score))


def scan(conversations: Iterable[tuple[int, list[Line]]], chunk_size: int = CHUNK) -> ScanResult:
    """Scan (key, lines) pairs; the whole result, or the source's DatasetError."""
    result = ScanResult()
    chunk: list[tuple[int, list[Line]]] = []
    for key, lines in conversations:
        result.conversations += 1
        result.messages += len(lines)
        chunk.append((key, lines))
        if len(chunk) >= chunk_size:
            result.flags += scan_chunk(chunk)
            chunk = []
    if chunk:
        result.flags += scan_chunk(chunk)
    return result


def file_conversations(paths: Iterable[Path]) -> Iterator[tuple[int, list[Line]]]:
    """Every conversation of the files (a folder: its .json/.jsonl files), numbered from 0.

    A file is read and validated whole before any of it is scanned; a bad file raises a
    DatasetError naming it (chat.dataset.reading.read_files).
    """
    for index, conversation in enumerate(read_files(paths)):
        yield index, [(i, u.speaker, u.text) for i, u in enumerate(conversation.utterances)]


def run_conversations(run: CollectionRun) -> Iterator[tuple[int, list[Line]]]:
    """Every ended conversation of the run (whatever its quality status), by id.

    A line's position is its 0-based index in the dialog, as for files: the stored
    `Utterance.position` counts from 1 and need not be contiguous.
    """
    for record in iter_records(exportable_conversations(status="all", run=run)):
        lines = [(i, speaker, text) for i, (_, speaker, text, _, _) in enumerate(record.utterances)]
        yield record.pk, lines
