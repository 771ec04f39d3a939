"""Read an ESConv file: decode it, tell its layout, and validate every record in it.

Nothing is written here; a file that reads without a DatasetError is safe to store. JSON is
decoded by esc_platform.safe_json, so nesting and number literals are bounded: a file built to
crash the parser is refused like any other bad record, naming the record and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from chat.dataset import DatasetError
from chat.dataset.layouts import FORMATS, SPEAKER_LABELS
from chat.dataset.validating import ParsedConversation, describe, parse_record
from esc_platform import safe_json

# A record is about five levels deep (array, record, dialog, item, annotation).
MAX_DEPTH = 16


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


def _limit_error(exc: safe_json.JSONLimitError, where: str | None) -> DatasetError:
    """The limit a value passed, named as the validator names fields: record 3, dialog[1]."""
    path = list(exc.path)
    if where is None:  # a whole-file array: the first step is the record's index
        index = path.pop(0) if path else None
        if not isinstance(index, int):
            return DatasetError(f"the file: {exc.message}")
        where = f"record {index + 1}"
    field = safe_json.format_path(path)
    return DatasetError(f"{where}, {field}: {exc.message}" if field else f"{where}: {exc.message}")


def _load_array(text: str) -> Any:
    try:
        return safe_json.loads(text, max_depth=MAX_DEPTH)
    except json.JSONDecodeError as exc:
        hint = "; is it JSON lines? try --format jsonl" if exc.msg == "Extra data" else ""
        raise DatasetError(_json_error(exc) + hint) from None
    except safe_json.JSONLimitError as exc:
        raise _limit_error(exc, None) from None


def _has_legacy_labels(records: Any) -> bool:
    legacy_labels = set(SPEAKER_LABELS["legacy"])
    for record in records if isinstance(records, list) else ():
        dialog = record.get("dialog") if isinstance(record, dict) else None
        for item in dialog if isinstance(dialog, list) else ():
            speaker = item.get("speaker") if isinstance(item, dict) else None
            if isinstance(speaker, str) and speaker in legacy_labels:
                return True
    return False


def detect_format(text: str) -> str:
    """Tell the layout from the content: a JSON array is raw or legacy, objects a line jsonl."""
    start = text.lstrip()[:1]
    if start == "{":
        return "jsonl"
    if start != "[":
        raise DatasetError(
            "cannot tell the layout: the file starts with neither '[' (raw) nor '{' (JSON lines); "
            "use --format"
        )
    return "legacy" if _has_legacy_labels(_load_array(text)) else "raw"


def _parse_lines(text: str) -> list[ParsedConversation]:
    parsed: list[ParsedConversation] = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        number = len(parsed) + 1
        where = f"record {number} (line {line_number})"
        try:
            value = safe_json.loads(line, max_depth=MAX_DEPTH)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
        except safe_json.JSONLimitError as exc:
            raise _limit_error(exc, where) from None
        parsed.append(parse_record(value, number=number, fmt="jsonl", line=line_number))
    return parsed


def parse_text(text: str, fmt: str) -> list[ParsedConversation]:
    """Validate a whole file's content in layout `fmt` (not "auto")."""
    if fmt == "jsonl":
        return _parse_lines(text)
    records = _load_array(text)
    if not isinstance(records, list):
        raise DatasetError(
            f"the {fmt} layout is a JSON array of conversations, got {describe(records)}"
        )
    return [
        parse_record(value, number=number, fmt=fmt) for number, value in enumerate(records, start=1)
    ]


def read_file(path: Path, fmt: str = "auto") -> tuple[str, list[ParsedConversation]]:
    """Read and validate `path`; return the layout used and the parsed conversations."""
    if fmt != "auto" and fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}; use auto, {', '.join(FORMATS)}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    if fmt == "auto":
        fmt = detect_format(text)
    return fmt, parse_text(text, fmt)


def dataset_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, a directory standing for the .json and .jsonl files directly in it."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl"))
            if not found:
                raise DatasetError(f"{path} holds no .json or .jsonl file")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise DatasetError(f"{path}: no such file or directory")
    return files


def read_files(paths: Iterable[Path]) -> Iterator[ParsedConversation]:
    """Every conversation of several files (a folder: its .json and .jsonl files), in order.

    Each file is read and validated whole, as an import reads it, before its conversations are
    yielded; a bad one raises a DatasetError whose message names the file.
    """
    for path in dataset_files(paths):
        try:
            _, parsed = read_file(path)
        except DatasetError as exc:
            # Some of read_file's messages name the file already.
            message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
            raise DatasetError(message) from None
        yield from parsed
