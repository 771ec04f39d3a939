"""Export conversations in the ESConv layouts (see docs/dataset.md), streaming and atomically.

Conversations are read in chunks by primary key with their utterances and surveys prefetched
(a constant number of queries per chunk), turned into text one at a time (`encoding`) and
written at once, so memory stays flat however many conversations there are. Files are written
under a temporary name in the target directory and renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from django.db.models import Prefetch, QuerySet
from tqdm import tqdm

from chat.dataset import DatasetError
from chat.dataset.encoding import LayoutWriter, TextSink
from chat.dataset.layouts import EXPORT_FORMATS
from chat.dataset.splitting import SPLIT_NAMES, assign_splits, parse_split, split_paths
from chat.models import Conversation, Utterance
from crowd.models import CollectionRun

CHUNK_SIZE = 500


def exportable_conversations(
    *, status: str = "approved", run: CollectionRun | None = None
) -> QuerySet[Conversation]:
    """Conversations an export may contain, in import order; withdrawn ones never.

    `status` is "approved" (the default), "all" (every ended conversation whatever its
    quality status) or one quality status.
    """
    queryset = Conversation.objects.filter(withdrawn_at__isnull=True)
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


def iter_prefetched(
    conversations: QuerySet[Conversation], chunk_size: int = CHUNK_SIZE
) -> Iterator[Conversation]:
    """Yield conversations in pk order, a chunk at a time, with utterances and surveys loaded.

    Keyset pagination (pk > last) rather than OFFSET keeps every chunk query equally cheap.
    """
    base = (
        conversations.order_by("pk")
        .select_related("seeker_survey", "supporter_survey")
        .prefetch_related(
            Prefetch(
                "utterances",
                queryset=Utterance.objects.order_by("position").only(
                    "conversation_id", "position", "speaker", "text", "strategy", "feedback"
                ),
            )
        )
    )
    last_pk: int | None = None
    while True:
        page = base if last_pk is None else base.filter(pk__gt=last_pk)
        chunk = list(page[:chunk_size])
        if not chunk:
            return
        yield from chunk
        last_pk = chunk[-1].pk


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise DatasetError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")


def write_export(
    sink: TextSink,
    conversations: QuerySet[Conversation],
    *,
    fmt: str = "raw",
    progress: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Stream `conversations` to an open text sink (e.g. stdout); return how many were written."""
    _check_format(fmt)
    writer = LayoutWriter(sink, fmt)
    total = conversations.count() if progress else None
    with tqdm(total=total, disable=not progress, unit="conv", desc="export") as bar:
        for conversation in iter_prefetched(conversations, chunk_size):
            writer.add(conversation)
            bar.update(1)
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
    progress: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Write `conversations` to `path` atomically; return how many were written.

    On any error the target is left as it was and no temporary file remains.
    """
    _check_format(fmt)
    path = Path(path)
    try:
        with _atomic_files([path]) as (handle,):
            return write_export(
                handle, conversations, fmt=fmt, progress=progress, chunk_size=chunk_size
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
    progress: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, int]:
    """Write train/valid/test files beside `path` in one pass; all three or none appear."""
    _check_format(fmt)
    path = Path(path)
    targets = split_paths(path)
    # Only the ids are held in memory (8 bytes each plus overhead): fine at millions.
    assignment = assign_splits(
        list(conversations.order_by().values_list("pk", flat=True)), ratios, seed
    )
    try:
        with _atomic_files(list(targets.values())) as handles:
            writers = {
                name: LayoutWriter(handle, fmt)
                for name, handle in zip(SPLIT_NAMES, handles, strict=True)
            }
            with tqdm(
                total=len(assignment), disable=not progress, unit="conv", desc="export"
            ) as bar:
                for conversation in iter_prefetched(conversations, chunk_size):
                    # Rows added after the ids were read are not in this export.
                    if conversation.pk in assignment:
                        writers[assignment[conversation.pk]].add(conversation)
                    bar.update(1)
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
    progress: bool = False,
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
        )
    if isinstance(target, Path):
        return {"all": write_export_file(target, conversations, fmt=fmt, progress=progress)}
    return {"all": write_export(target, conversations, fmt=fmt, progress=progress)}
