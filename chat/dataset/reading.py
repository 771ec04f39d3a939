"""Read an ESConv file: decode it, tell its layout, and validate every record in it.

Nothing is written here; a file that reads without a DatasetError is safe to store.
"""

from __future__ import annotations

import json
from pathlib import Path

from chat.dataset import DatasetError
from chat.dataset.layouts import FORMATS, SPEAKER_LABELS
from chat.dataset.validating import ParsedConversation, describe, parse_record


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


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
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(_json_error(exc)) from None
    legacy_labels = set(SPEAKER_LABELS["legacy"])
    for record in records if isinstance(records, list) else ():
        dialog = record.get("dialog") if isinstance(record, dict) else None
        for item in dialog if isinstance(dialog, list) else ():
            if isinstance(item, dict) and item.get("speaker") in legacy_labels:
                return "legacy"
    return "raw"


def parse_text(text: str, fmt: str) -> list[ParsedConversation]:
    """Validate a whole file's content in layout `fmt` (not "auto")."""
    if fmt == "jsonl":
        parsed: list[ParsedConversation] = []
        for line_number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            number = len(parsed) + 1
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    f"record {number} (line {line_number}): not valid JSON: {exc.msg} "
                    f"(column {exc.colno})"
                ) from None
            parsed.append(parse_record(value, number=number, fmt=fmt, line=line_number))
        return parsed

    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "; is it JSON lines? try --format jsonl" if exc.msg == "Extra data" else ""
        raise DatasetError(_json_error(exc) + hint) from None
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
