"""Import ESConv files: validate every record first, then write them all in one transaction.

The three layouts read (raw, jsonl, legacy) are described in docs/dataset.md and in
`chat.dataset.layouts`. A file is all or nothing: the first bad record stops the import with a
message naming the record and the field, and nothing from the file is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction

from chat.dataset import DatasetError
from chat.dataset.reading import read_file
from chat.dataset.storing import resolve_run, store_conversations
from chat.models import Conversation
from esc_platform.progress import Progress

IMPORT_STATUSES = (Conversation.QualityStatus.APPROVED, Conversation.QualityStatus.PENDING)


@dataclass(frozen=True)
class ImportResult:
    format: str
    imported: int
    skipped: int
    run: str


def import_esconv_file(
    path: Path,
    *,
    fmt: str = "auto",
    status: str = Conversation.QualityStatus.APPROVED,
    run_name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one ESConv file, all or nothing; records already present are skipped."""
    if status not in IMPORT_STATUSES:
        raise DatasetError(f"status must be one of {', '.join(IMPORT_STATUSES)}, not {status!r}")
    used_format, parsed = read_file(path, fmt)
    try:
        with transaction.atomic():
            run = resolve_run(run_name)
            imported, skipped = store_conversations(
                parsed, fmt=used_format, run=run, status=status, progress=progress
            )
    except IntegrityError as exc:
        # Only a concurrent import of the same records gets here (validation ran first).
        raise DatasetError(f"nothing imported: the database refused a row ({exc})") from exc
    return ImportResult(format=used_format, imported=imported, skipped=skipped, run=run.name)
