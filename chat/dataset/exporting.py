"""Export conversations in the ESConv layouts (SPEC section 8), streaming and atomically.

Conversations are read in chunks by primary key with their utterances and surveys prefetched
(a constant number of queries per chunk), turned into dicts one at a time and written at once,
so memory stays flat however many conversations there are. Files are written under a temporary
name in the target directory and renamed into place only when complete.

Only what the layout holds ever leaves: no email, worker or crowd-site identifier.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from tqdm import tqdm

from chat.dataset import DatasetError
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun

EXPORT_FORMATS = ("raw", "jsonl")
CHUNK_SIZE = 500
SPLIT_NAMES = ("train", "valid", "test")
JSONL_SPEAKERS = {vocabulary.SEEKER: "usr", vocabulary.SUPPORTER: "sys"}


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


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


# --------------------------------------------------------------------------- one conversation


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

    Expects utterances and both surveys prefetched (see `exportable_conversations` users);
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


# --------------------------------------------------------------------------- streams


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


class _LayoutWriter:
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
    writer = _LayoutWriter(sink, fmt)
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


def parse_split(text: str) -> tuple[int, int, int]:
    """ "6:2:2" -> (6, 2, 2): train, valid and test shares."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or sum(map(int, parts)) == 0:
        raise DatasetError(f"split {text!r} must be three whole numbers such as 6:2:2")
    train, valid, test = (int(p) for p in parts)
    return train, valid, test


def split_paths(path: Path) -> dict[str, Path]:
    """out/esconv.json -> out/esconv.train.json, out/esconv.valid.json, out/esconv.test.json."""
    return {name: path.with_name(f"{path.stem}.{name}{path.suffix}") for name in SPLIT_NAMES}


def assign_splits(ids: Sequence[int], ratios: tuple[int, int, int], seed: int) -> dict[int, str]:
    """Deal whole conversations into train/valid/test: the same ids and seed give the same split.

    The ids are shuffled with a generator seeded by `seed` alone, then cut by the ratios
    (train and valid rounded down, test takes the rest).
    """
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)
    total = sum(ratios)
    n_train = len(shuffled) * ratios[0] // total
    n_valid = len(shuffled) * ratios[1] // total
    assignment: dict[int, str] = {}
    for index, pk in enumerate(shuffled):
        if index < n_train:
            assignment[pk] = "train"
        elif index < n_train + n_valid:
            assignment[pk] = "valid"
        else:
            assignment[pk] = "test"
    return assignment


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
                name: _LayoutWriter(handle, fmt)
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
