"""Releases: the approved set exported as dated, numbered files, written only when it changed.

Crash safety: the file is written under a temporary name (`.esconv-release-….json.tmp`),
flushed and fsynced, then renamed into place and the directory fsynced, inside the transaction
that records its `Release` row, so a release file is always complete and a row always has its
file. Writers hold an exclusive lock on the release directory (flock; the kernel drops it when
the process dies), so the first thing a write does is remove what a killed writer left: every
`*.tmp` file, and the temporary `.release-*.json` of earlier versions. A release with no
conversations is never written, and a demo run's chats are never in one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from chat.dataset import DatasetError
from chat.dataset.exporting import exportable_conversations, write_export
from chat.models import Conversation
from quality.errors import QualityError
from quality.models import Release

logger = logging.getLogger(__name__)

TEMP_SUFFIX = ".tmp"
# Leftovers: our temporary files (and chat.dataset's, `.NAME.HEX.tmp`), and the temporary
# `.release-HEX.json` that earlier versions wrote first.
LEFTOVER_PATTERNS = ("*" + TEMP_SUFFIX, ".release-*.json")
# Where the directory cannot be locked (some network file systems), only leftovers this old are
# removed: an active writer touches its file far more often than that.
UNLOCKED_LEFTOVER_AGE_SECONDS = 3600


class ReleaseOutcome(StrEnum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"  # identical to the previous release, which still exists
    EMPTY = "empty"  # no approved conversation: nothing to release


@dataclass(frozen=True)
class ReleaseAttempt:
    outcome: ReleaseOutcome
    release: Release | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable (the directory entry, not only the file's data)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked_directory(folder: Path) -> Iterator[bool]:
    """Hold an exclusive flock on `folder` for one writer at a time; yield whether it is held."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            locked = True
        except OSError:
            logger.warning("cannot lock %s; releases are written without the lock", folder)
            locked = False
        yield locked
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def remove_leftovers(folder: Path, *, locked: bool = True) -> list[Path]:
    """Remove temporary files a killed writer left in `folder`; return what was removed.

    Call only while holding the directory's lock (`locked`): no other writer is then active.
    """
    removed = []
    cutoff = time.time() - UNLOCKED_LEFTOVER_AGE_SECONDS
    leftovers = {path for pattern in LEFTOVER_PATTERNS for path in folder.glob(pattern)}
    for path in sorted(leftovers):
        try:
            if not path.is_file() or (not locked and path.stat().st_mtime > cutoff):
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    if removed:
        logger.warning("removed %d leftover temporary release files", len(removed))
    return removed


def _write_temporary(path: Path, conversations: QuerySet[Conversation]) -> int:
    """Write the export to `path` (a new file), flushed and fsynced; return the count."""
    try:
        # O_EXCL: never write into someone else's file; 0o666 lets the umask decide.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            count = write_export(handle, conversations, fmt="raw")
            handle.flush()
            os.fsync(handle.fileno())
        return count
    except DatasetError as exc:
        raise QualityError(f"the release could not be written: {exc}") from exc
    except OSError as exc:
        raise QualityError(f"the release could not be written: {exc.strerror or exc}") from exc


def attempt_release(*, force: bool = False) -> ReleaseAttempt:
    """Export the approved set as the next numbered release, unless it is empty or unchanged."""
    export_dir = Path(settings.ESCONV_EXPORT_DIR)
    export_dir.mkdir(parents=True, exist_ok=True)
    with _locked_directory(export_dir) as locked:
        remove_leftovers(export_dir, locked=locked)
        # A demo run's chats are never released (docs/operations.md, "The demo run").
        approved = exportable_conversations(status="approved").exclude(
            run__is_demo=True, source_format=""
        )
        if not approved.exists():
            return ReleaseAttempt(ReleaseOutcome.EMPTY)
        tmp = export_dir / f".esconv-release-{uuid.uuid4().hex}.json{TEMP_SUFFIX}"
        try:
            count = _write_temporary(tmp, approved)
            if count == 0:  # the last approved one was withdrawn or rejected meanwhile
                return ReleaseAttempt(ReleaseOutcome.EMPTY)
            digest = _sha256(tmp)
            last = Release.objects.order_by("-number").first()
            if (
                not force
                and last is not None
                and last.sha256 == digest
                and Path(last.path).is_file()
            ):
                return ReleaseAttempt(ReleaseOutcome.UNCHANGED)
            return ReleaseAttempt(ReleaseOutcome.WRITTEN, _publish(tmp, export_dir, count, digest))
        finally:
            tmp.unlink(missing_ok=True)


def _publish(tmp: Path, export_dir: Path, count: int, digest: str) -> Release:
    """Take the next number and rename the file into place in one transaction."""
    for _ in range(5):
        try:
            with transaction.atomic():
                number = (Release.objects.aggregate(n=Max("number"))["n"] or 0) + 1
                final = export_dir / f"esconv-release-{number:04d}-{timezone.now():%Y%m%d}.json"
                release = Release.objects.create(
                    number=number, path=str(final), count=count, sha256=digest
                )
                os.replace(tmp, final)
                _fsync_directory(export_dir)
                return release
        except IntegrityError:
            continue  # another job took this number first
        except OSError as exc:
            raise QualityError(f"the release could not be put in place: {exc}") from exc
    raise QualityError("could not allocate a release number; try again")


def write_release(*, force: bool = False) -> Release | None:
    """The new release, or None when nothing changed or there is nothing approved to release."""
    return attempt_release(force=force).release
