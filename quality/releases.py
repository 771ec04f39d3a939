"""Releases: the approved set exported as dated, numbered files, written only when it changed."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from chat.dataset import DatasetError
from chat.dataset.exporting import exportable_conversations, write_export_file
from quality.errors import QualityError
from quality.models import Release


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_release(*, force: bool = False) -> Release | None:
    """Export the approved set as the next numbered release; None when nothing changed.

    The file is written first under a temporary name; the number is taken and the file renamed
    in one transaction, so a failed write leaves neither a row nor a stray release file.
    """
    export_dir = Path(settings.ESCONV_EXPORT_DIR)
    export_dir.mkdir(parents=True, exist_ok=True)
    tmp = export_dir / f".release-{uuid.uuid4().hex}.json"
    try:
        try:
            count = write_export_file(tmp, exportable_conversations(status="approved"), fmt="raw")
        except DatasetError as exc:
            raise QualityError(f"the release could not be written: {exc}") from exc
        digest = _sha256(tmp)
        last = Release.objects.order_by("-number").first()
        if not force and last is not None and last.sha256 == digest and Path(last.path).is_file():
            return None
        for _ in range(5):
            try:
                with transaction.atomic():
                    number = (Release.objects.aggregate(n=Max("number"))["n"] or 0) + 1
                    final = export_dir / f"esconv-release-{number:04d}-{timezone.now():%Y%m%d}.json"
                    release = Release.objects.create(
                        number=number, path=str(final), count=count, sha256=digest
                    )
                    os.replace(tmp, final)
                    return release
            except IntegrityError:
                continue  # another job took this number first
        raise QualityError("could not allocate a release number; try again")
    finally:
        tmp.unlink(missing_ok=True)
