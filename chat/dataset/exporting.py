"""Export conversations in the ESConv layouts (see docs/dataset.md), streaming and atomically.

Conversations are read in chunks by primary key as plain rows (two queries per chunk: the
conversations with both surveys joined, then their utterances), turned into text a chunk at a
time (`encoding`) and written at once, so memory stays flat however many conversations there
are. Files are written under a temporary name in the target directory and renamed into place
only when complete. Model instances are never built: at 100,000 conversations they cost
several times what reading and writing the bytes does (docs/dataset.md, "Export at scale").
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet

from chat.dataset import DatasetError
from chat.dataset.encoding import ExportRecord, LayoutWriter, TextSink, UtteranceRow
from chat.dataset.layouts import EXPORT_FORMATS
from chat.dataset.splitting import SPLIT_NAMES, assign_splits, parse_split, split_paths
from chat.models import Conversation, Utterance
from crowd.models import CollectionRun
from esc_platform.progress import Progress
from quality.models import Flag, safety_kinds

CHUNK_SIZE = 500

# The conversation's columns, then the seeker's survey, then the supporter's (LEFT JOINs).
_CONVERSATION_COLUMNS = (
    "pk",
    "experience_type",
    "emotion_type",
    "problem_type",
    "situation",
    "initial_emotion_intensity",
    "seeker_survey__pk",
    "seeker_survey__final_emotion_intensity",
    "seeker_survey__empathy",
    "seeker_survey__relevance",
    "seeker_survey__question1",
    "seeker_survey__question2",
    "supporter_survey__pk",
    "supporter_survey__seeker_detail",
    "supporter_survey__question1",
    "supporter_survey__question2",
)
_UTTERANCE_COLUMNS = ("conversation_id", "position", "speaker", "text", "strategy", "feedback")


def exportable_conversations(
    *, status: str = "approved", run: CollectionRun | None = None
) -> QuerySet[Conversation]:
    """Conversations an export may contain, in import order; withdrawn ones and chats with a
    model never.

    `status` is "approved" (the default), "all" (every ended conversation whatever its
    quality status) or one quality status.
    """
    # Chats with a model as the supporter (docs/evaluation.md) are never human data.
    queryset = Conversation.objects.filter(withdrawn_at__isnull=True, evaluation_leg__isnull=True)
    # A rehearsal's chats (docs/rehearsal.md) are never data.
    queryset = queryset.exclude(seeker__simulated=True)
    if status == "all":
        # A chat still in progress is not a conversation of the dataset yet.
        queryset = queryset.filter(state=Conversation.State.ENDED)
    elif status in Conversation.QualityStatus.values:
        queryset = queryset.filter(quality_status=status)
    else:
        raise DatasetError(f"status must be approved, all or a quality status, not {status!r}")
    if run is not None:
        queryset = queryset.filter(run=run)
    return queryset.order_by("pk")


def _safety_flags(conversation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each conversation's safety flags as the opt-in export writes them (docs/safety.md)."""
    flags: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for conversation_id, position, kind, score, resolved_at in (
        Flag.objects.filter(conversation_id__in=conversation_ids, kind__in=safety_kinds())
        .order_by("conversation_id", "utterance__position", "kind")
        .values_list("conversation_id", "utterance__position", "kind", "score", "resolved_at")
    ):
        flags[conversation_id].append(
            {
                "position": position,
                "category": kind.split("_", 1)[1],
                "kind": kind.split("_", 1)[0],
                "score": score,
                "resolved": resolved_at is not None,
            }
        )
    return flags


def _records(rows: Sequence[tuple[Any, ...]], include_safety: bool = False) -> list[ExportRecord]:
    """Conversation rows (`_CONVERSATION_COLUMNS`) with their utterances, read in one query
    (and their safety flags in a second one when `include_safety`)."""
    utterances: dict[int, list[UtteranceRow]] = defaultdict(list)
    for conversation_id, *utterance in (
        Utterance.objects.filter(conversation_id__in=[row[0] for row in rows])
        .order_by("conversation_id", "position")
        .values_list(*_UTTERANCE_COLUMNS)
    ):
        utterances[conversation_id].append(tuple(utterance))
    flags = _safety_flags([row[0] for row in rows]) if include_safety else {}
    return [
        ExportRecord(
            pk=row[0],
            experience_type=row[1],
            emotion_type=row[2],
            problem_type=row[3],
            situation=row[4],
            initial_emotion_intensity=row[5],
            seeker_survey=None if row[6] is None else row[7:12],
            supporter_survey=None if row[12] is None else row[13:16],
            utterances=utterances.get(row[0], []),
            extra={"safety_flags": flags.get(row[0], [])} if include_safety else None,
        )
        for row in rows
    ]


def iter_chunks(
    conversations: QuerySet[Conversation],
    chunk_size: int = CHUNK_SIZE,
    *,
    include_safety: bool = False,
) -> Iterator[list[ExportRecord]]:
    """Yield the conversations in pk order, a chunk at a time, with utterances and surveys.

    Keyset pagination (pk > last) rather than OFFSET keeps every chunk query equally cheap.
    """
    base = conversations.order_by("pk").values_list(*_CONVERSATION_COLUMNS)
    last_pk: int | None = None
    while True:
        page = base if last_pk is None else base.filter(pk__gt=last_pk)
        rows = list(page[:chunk_size])
        if not rows:
            return
        yield _records(rows, include_safety)
        last_pk = rows[-1][0]


def iter_records(
    conversations: QuerySet[Conversation], chunk_size: int = CHUNK_SIZE
) -> Iterator[ExportRecord]:
    """The conversations one at a time (read a chunk at a time, as `iter_chunks`)."""
    for chunk in iter_chunks(conversations, chunk_size):
        yield from chunk


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise DatasetError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")


def write_export(
    sink: TextSink,
    conversations: QuerySet[Conversation],
    *,
    fmt: str = "raw",
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    include_safety: bool = False,
) -> int:
    """Stream `conversations` to an open text sink (e.g. stdout); return how many were written.

    `progress` (esc_platform.progress) is advanced a chunk at a time; its total is counted
    only when it draws a bar.
    """
    _check_format(fmt)
    progress = progress or Progress.quiet()
    if progress.drawing:
        progress.set_total(conversations.count())
    writer = LayoutWriter(sink, fmt)
    for chunk in iter_chunks(conversations, chunk_size, include_safety=include_safety):
        writer.add_all(chunk)
        progress.advance(len(chunk))
    writer.close()
    return writer.count


@contextlib.contextmanager
def _atomic_files(paths: Sequence[Path]) -> Iterator[list[IO[str]]]:
    """Open temporary files beside `paths`; rename them all into place only on success."""
    temps: list[Path] = []
    handles: list[IO[str]] = []
    try:
        for path in paths:
            temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
            # O_EXCL: never reuse someone else's file; mode 0o666 lets the umask decide, as for
            # any file the user creates (mkstemp would force 0o600).
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            temps.append(temp)
            handles.append(os.fdopen(fd, "w", encoding="utf-8", newline="\n"))
        yield handles
        for handle in handles:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        for temp, path in zip(temps, paths, strict=True):
            os.replace(temp, path)
    finally:
        for handle in handles:
            handle.close()
        for temp in temps:
            temp.unlink(missing_ok=True)


def _open_error(path: Path, exc: OSError) -> DatasetError:
    return DatasetError(f"cannot write {path}: {exc.strerror or exc}")


def write_export_file(
    path: Path,
    conversations: QuerySet[Conversation],
    *,
    fmt: str = "raw",
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    include_safety: bool = False,
) -> int:
    """Write `conversations` to `path` atomically; return how many were written.

    On any error the target is left as it was and no temporary file remains.
    """
    _check_format(fmt)
    path = Path(path)
    try:
        with _atomic_files([path]) as (handle,):
            return write_export(
                handle,
                conversations,
                fmt=fmt,
                progress=progress,
                chunk_size=chunk_size,
                include_safety=include_safety,
            )
    except OSError as exc:
        raise _open_error(path, exc) from exc


def write_split_export_files(
    path: Path,
    conversations: QuerySet[Conversation],
    *,
    ratios: tuple[int, int, int] = (6, 2, 2),
    seed: int = 0,
    fmt: str = "raw",
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    include_safety: bool = False,
) -> dict[str, int]:
    """Write train/valid/test files beside `path` in one pass; all three or none appear."""
    _check_format(fmt)
    path = Path(path)
    targets = split_paths(path)
    progress = progress or Progress.quiet()
    # Only the ids are held in memory (8 bytes each plus overhead): fine at millions.
    assignment = assign_splits(
        list(conversations.order_by().values_list("pk", flat=True)), ratios, seed
    )
    progress.set_total(len(assignment))
    try:
        with _atomic_files(list(targets.values())) as handles:
            writers = {
                name: LayoutWriter(handle, fmt)
                for name, handle in zip(SPLIT_NAMES, handles, strict=True)
            }
            for chunk in iter_chunks(conversations, chunk_size, include_safety=include_safety):
                shares: dict[str, list[ExportRecord]] = defaultdict(list)
                for record in chunk:
                    # Rows added after the ids were read are not in this export.
                    if record.pk in assignment:
                        shares[assignment[record.pk]].append(record)
                for name, records in shares.items():
                    writers[name].add_all(records)
                progress.advance(len(chunk))
            for writer in writers.values():
                writer.close()
            return {name: writer.count for name, writer in writers.items()}
    except OSError as exc:
        raise _open_error(path, exc) from exc


def export_conversations(
    target: Path | TextSink,
    *,
    status: str = "approved",
    run: CollectionRun | None = None,
    fmt: str = "raw",
    split: str | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    include_safety: bool = False,
) -> dict[str, int]:
    """What `manage.py export_esconv` does: write the exportable conversations to `target`.

    `target` is a file path (written atomically) or an open text sink such as stdout; `split`
    ("6:2:2") writes train/valid/test files beside the path instead. Returns how many
    conversations each file holds: {"train": .., "valid": .., "test": ..} with a split, else
    {"all": n}.
    """
    conversations = exportable_conversations(status=status, run=run)
    if split:
        if not isinstance(target, Path):
            raise DatasetError("--split writes three files; give --output a file name")
        return write_split_export_files(
            target,
            conversations,
            ratios=parse_split(split),
            seed=seed,
            fmt=fmt,
            progress=progress,
            include_safety=include_safety,
        )
    if isinstance(target, Path):
        written = write_export_file(
            target, conversations, fmt=fmt, progress=progress, include_safety=include_safety
        )
    else:
        written = write_export(
            target, conversations, fmt=fmt, progress=progress, include_safety=include_safety
        )
    return {"all": written}
