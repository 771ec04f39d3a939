"""Payment export: the CSV a researcher uploads to the crowd site to pay bonuses.

A worker is exported once. Every export marks the rows it wrote as paid (`Worker.paid_at`) in
the same transaction as the file is written, so a second export only adds workers who finished
since; `include_paid` (the command's `--all`) writes everyone again without paying anyone twice
in our records. A demo run is never exported: its workers only tried the platform.
"""

from __future__ import annotations

import csv
import enum
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crowd.models import CollectionRun, Worker
from crowd.selectors import run_named
from esc_platform.progress import Progress


class PaymentError(Exception):
    """The export cannot be made; the message says why."""


class PaymentSite(enum.StrEnum):
    """Which layout to write."""

    FULL = "full"  # every column, with a header: for the researcher's own books
    PROLIFIC = "prolific"  # "participant_id,amount" lines, no header: Prolific's bulk bonus box
    MTURK = "mturk"  # WorkerId,AssignmentId,BonusAmount,Reason: one SendBonus call per row


FULL_COLUMNS: tuple[str, ...] = (
    "worker_id",
    "external_id",
    "provider",
    "study_id",
    "assignment_id",
    "role",
    "status_code",
    "base",
    "bonus",
    "total",
    "currency",
    "finished_at",
)
MTURK_COLUMNS: tuple[str, ...] = ("WorkerId", "AssignmentId", "BonusAmount", "Reason")


@dataclass(frozen=True)
class PaymentRow:
    worker_id: int
    external_id: str
    provider: str
    study_id: str
    assignment_id: str
    role: str
    status_code: str
    base: Decimal
    total: Decimal
    currency: str
    finished_at: str

    @property
    def bonus(self) -> Decimal:
        return self.total - self.base


@dataclass(frozen=True)
class PaymentExport:
    rows: int  # rows written
    newly_paid: int  # workers marked paid by this export
    total: Decimal  # sum of the totals written
    bonus: Decimal  # sum of the bonuses written
    skipped_deleted: int  # finished workers left out because their data was deleted


DEMO_REFUSAL = (
    "The run {name!r} is a demo run: its workers only tried the platform and are never paid "
    '(docs/operations.md, "The demo run").'
)


def refuse_demo(run: CollectionRun) -> None:
    """A PaymentError for a demo run, whose workers are never paid."""
    if run.is_demo:
        raise PaymentError(DEMO_REFUSAL.format(name=run.name))


def payable_workers(
    run: CollectionRun, *, include_paid: bool, include_simulated: bool = False
) -> QuerySet[Worker]:
    """Workers of the run with a recorded outcome that can be paid (they still have an id).

    None in a demo run; simulated workers (a rehearsal) only with `include_simulated`.
    """
    workers = Worker.objects.filter(
        run=run, run__is_demo=False, data_deleted_at__isnull=True, pay_total__isnull=False
    ).exclude(status_code="")
    if not include_paid:
        workers = workers.filter(paid_at__isnull=True)
    if not include_simulated:
        workers = workers.filter(simulated=False)
    return workers.order_by("finished_at", "pk")


def _rows(workers: Iterable[Worker], currency: str) -> list[PaymentRow]:
    rows = []
    for worker in workers:
        assert worker.pay_total is not None
        base = worker.pay_base if worker.pay_base is not None else worker.pay_total
        rows.append(
            PaymentRow(
                worker_id=worker.pk,
                external_id=worker.external_id,
                provider=worker.provider,
                study_id=worker.study_id,
                assignment_id=worker.assignment_id,
                role=worker.role,
                status_code=worker.status_code,
                base=base,
                total=worker.pay_total,
                currency=currency,
                finished_at=worker.finished_at.isoformat() if worker.finished_at else "",
            )
        )
    return rows


def write_csv(
    rows: Sequence[PaymentRow],
    site: PaymentSite,
    stream: TextIO,
    progress: Progress | None = None,
) -> int:
    """Write rows in the site's layout; return how many lines of payment were written.

    The site layouts carry bonuses only (the base is paid by approving the submission on the
    site) and leave out zero bonuses, which both sites refuse. `progress` counts the lines.
    """
    progress = progress or Progress.quiet(noun="payment row")
    writer = csv.writer(stream, lineterminator="\n")
    if site == PaymentSite.FULL:
        writer.writerow(FULL_COLUMNS)
        progress.set_total(len(rows))
        for row in rows:
            writer.writerow(
                [
                    row.worker_id,
                    row.external_id,
                    row.provider,
                    row.study_id,
                    row.assignment_id,
                    row.role,
                    row.status_code,
                    row.base,
                    row.bonus,
                    row.total,
                    row.currency,
                    row.finished_at,
                ]
            )
            progress.advance()
        return len(rows)
    paid = [row for row in rows if row.bonus > 0]
    progress.set_total(len(paid))
    if site == PaymentSite.PROLIFIC:
        for row in paid:
            writer.writerow([row.external_id, row.bonus])
            progress.advance()
        return len(paid)
    writer.writerow(MTURK_COLUMNS)
    for row in paid:
        writer.writerow(
            [row.external_id, row.assignment_id, row.bonus, f"ESC task status {row.status_code}"]
        )
        progress.advance()
    return len(paid)


def _export(
    run: CollectionRun,
    site: PaymentSite,
    include_paid: bool,
    stream: TextIO,
    worker_ids: Sequence[int] | None,
    progress: Progress | None = None,
) -> PaymentExport:
    """Write the CSV to stream and mark its workers paid. Call inside a transaction."""
    workers = payable_workers(run, include_paid=include_paid)
    if site != PaymentSite.FULL:
        # A site's file can only pay that site's workers.
        workers = workers.filter(provider=str(site))
    if worker_ids is not None:
        workers = workers.filter(pk__in=worker_ids)
    # Lock the rows so that two exports at once cannot both pay the same worker.
    locked = list(workers.select_for_update())
    rows = _rows(locked, run.currency)
    written = write_csv(rows, site, stream, progress)
    unpaid_ids = [worker.pk for worker in locked if worker.paid_at is None]
    marked = Worker.objects.filter(pk__in=unpaid_ids, paid_at__isnull=True).update(
        paid_at=timezone.now()
    )
    if marked != len(unpaid_ids):
        raise PaymentError("Another payment export ran at the same time; nothing was written.")
    skipped = Worker.objects.filter(
        run=run, data_deleted_at__isnull=False, pay_total__isnull=False, paid_at__isnull=True
    ).count()
    return PaymentExport(
        rows=written,
        newly_paid=marked,
        total=sum((row.total for row in rows), Decimal("0")),
        bonus=sum((row.bonus for row in rows), Decimal("0")),
        skipped_deleted=skipped,
    )


def export_payments_to_file(
    run: CollectionRun,
    output: Path,
    *,
    site: PaymentSite = PaymentSite.FULL,
    include_paid: bool = False,
    progress: Progress | None = None,
) -> PaymentExport:
    """Write the run's payment CSV to `output` and mark the exported workers paid.

    The file appears whole or not at all: it is written to a temporary file beside `output`
    and renamed into place inside the transaction that marks the workers paid, so a failure
    at any point leaves neither a partial file nor workers marked paid without a file.
    """
    refuse_demo(run)
    output = Path(output)
    if not output.parent.is_dir():
        raise PaymentError(f"The folder {output.parent} does not exist.")
    handle, temp_name = tempfile.mkstemp(prefix=".payments-", suffix=".csv", dir=output.parent)
    try:
        with transaction.atomic():
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                result = _export(run, site, include_paid, stream, None, progress)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp_name, output)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return result


def export_payments_to_string(
    run: CollectionRun,
    *,
    site: PaymentSite = PaymentSite.FULL,
    include_paid: bool = False,
    worker_ids: Sequence[int] | None = None,
) -> tuple[str, PaymentExport]:
    """The run's payment CSV as text (for a download), with its workers marked paid."""
    refuse_demo(run)
    stream = io.StringIO()
    with transaction.atomic():
        result = _export(run, site, include_paid, stream, worker_ids)
    return stream.getvalue(), result


def find_run(name: str) -> CollectionRun:
    """The run of this name; a PaymentError listing the known runs when there is none."""
    run = run_named(name)
    if run is None:
        known = ", ".join(CollectionRun.objects.values_list("name", flat=True)[:20]) or "none"
        raise PaymentError(f"There is no collection run named {name!r} (runs: {known}).")
    return run
