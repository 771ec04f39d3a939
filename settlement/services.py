"""Settling a run on its crowd sites: approve or reject each worker's submission and pay their
bonus, through the ledger (settlement.models), so that nothing is ever paid twice.

The steps (docs/crowd-sites.md, "Settlement"):

1. **Plan.** The run's policy says, per status code, approve or reject, and the bonus (by
   default the pay table's: total pay minus the base). Workers let down by their partner
   (status 02) are never rejected, whatever the policy says.
2. **Write the ledger.** One row per worker and kind, keyed for ever; a second settlement,
   or two at once, finds the rows already there and adds nothing.
3. **Send.** A row is claimed by a conditional UPDATE (planned → sent) before the site is
   called, so two settlements never send the same row. A row left `sent` by a process that
   died, or by an answer that never came, is read back from the site after its lease before
   anything is sent again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crowd.models import CollectionRun, StatusCode, Worker
from crowd.payments import payable_workers
from crowd.providers import base
from crowd.providers.base import Bonus, CrowdSite, ProviderError, Submission
from settlement.models import LedgerEntry, Settlement
from staff import audit

Kind = LedgerEntry.Kind
State = LedgerEntry.State
APPROVE, REJECT = "approve", "reject"
# Let down by their partner: never rejected (docs/quality.md, "Status codes and pay").
NEVER_REJECTED = (StatusCode.PARTNER_UNRESPONSIVE.value,)
SITES = ("prolific", "mturk")


class SettlementError(Exception):
    """A settlement that cannot start; the message says why."""


def lease() -> timedelta:
    """How long a sent row may wait for its answer before it counts as left by a dead
    process: longer than a call with all its retries can take, and than Prolific takes to
    carry out a bonus it has accepted ("in the following minutes")."""
    return max(timedelta(minutes=15), timedelta(seconds=settings.CROWD_SITE_TIMEOUT_SECONDS * 8))


@dataclass(frozen=True)
class Step:
    """What settlement asks the site for one worker."""

    worker: Worker
    kind: str
    amount: Decimal | None = None

    @property
    def key(self) -> str:
        # Approve and reject share a key: a worker's submission is decided once.
        suffix = "bonus" if self.kind == Kind.BONUS else "decision"
        return f"run{self.worker.run_id}-worker{self.worker.pk}-{suffix}"


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (worker id, why)


def study_of(worker: Worker) -> str:
    """What the site calls the task: Prolific's study id, MTurk's HIT id."""
    return worker.hit_id if worker.provider == "mturk" else worker.study_id


def policy_of(run: CollectionRun, status: str) -> dict[str, Any]:
    """The run's policy for a status code: {"action": ..., "bonus": Decimal | None}."""
    chosen = (run.settlement_policy or {}).get(status, {})
    action = chosen.get("action", APPROVE)
    if status in NEVER_REJECTED:
        action = APPROVE
    bonus = chosen.get("bonus")
    return {"action": action, "bonus": Decimal(str(bonus)) if bonus is not None else None}


def plan(run: CollectionRun, *, include_simulated: bool = False) -> Plan:
    """What settling the run asks of its crowd sites, worker by worker.

    Simulated workers (a rehearsal, docs/rehearsal.md) are skipped unless `include_simulated`
    says to settle them too, for a rehearsal against a sandbox.
    """
    out = Plan()
    for worker in payable_workers(run, include_paid=True, include_simulated=True):
        if worker.simulated and not include_simulated:
            out.skipped.append((worker.pk, "simulated (a rehearsal): see --include-simulated"))
            continue
        if worker.provider not in SITES:
            out.skipped.append((worker.pk, f"came from {worker.provider}: pay them yourself"))
            continue
        if not worker.assignment_id or not study_of(worker):
            out.skipped.append((worker.pk, "the entry link gave no submission or study id"))
            continue
        chosen = policy_of(run, worker.status_code)
        out.steps.append(Step(worker, Kind.REJECT if chosen["action"] == REJECT else Kind.APPROVE))
        base_pay = worker.pay_base if worker.pay_base is not None else worker.pay_total
        assert worker.pay_total is not None and base_pay is not None
        bonus = chosen["bonus"] if chosen["bonus"] is not None else worker.pay_total - base_pay
        if bonus > 0:
            out.steps.append(Step(worker, Kind.BONUS, bonus.quantize(Decimal("0.01"))))
    return out


@dataclass
class Report:
    """What a settlement did (or, dry, would do)."""

    run: str
    dry_run: bool
    currency: str
    counts: Counter[str] = field(default_factory=Counter)
    bonus_total: Decimal = Decimal("0.00")
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "dry_run": self.dry_run,
            "currency": self.currency,
            "counts": dict(sorted(self.counts.items())),
            "bonus_total": str(self.bonus_total),
            "rows": self.rows,
            "skipped": [{"worker": worker, "reason": why} for worker, why in self.skipped],
        }


SiteFactory = Callable[[str, CollectionRun], CrowdSite]


def default_site(provider: str, run: CollectionRun) -> CrowdSite:
    """The client of a crowd site, configured from the settings and the environment."""
    if provider == "prolific":
        from crowd.providers.prolific import ProlificSite

        return ProlificSite(block_group=settings.PROLIFIC_BLOCK_GROUP)
    from crowd.providers.mturk import MTurkSite

    return MTurkSite(sandbox=run.mturk_sandbox)


def settle(
    run: CollectionRun,
    *,
    dry_run: bool = False,
    user: Any = None,
    source: str = "command",
    sites: SiteFactory = default_site,
    include_simulated: bool = False,
) -> Report:
    """Settle the run (see the module's docstring); a dry run only says what it would do."""
    if run.is_demo:
        raise SettlementError(f"{run.name} is a demo run: its workers are never paid")
    planned = plan(run, include_simulated=include_simulated)
    report = Report(run.name, dry_run, run.currency, skipped=planned.skipped)
    if dry_run:
        done = dict(LedgerEntry.objects.filter(run=run).values_list("key", "state"))
        for step in planned.steps:
            state = done.get(step.key, "new")
            report.rows.append(_row(step.worker, step.kind, step.amount, state))
            if state != State.CONFIRMED:
                report.counts[f"would {step.kind}"] += 1
                report.bonus_total += step.amount or 0
        return report
    record = _write_ledger(run, planned, user, source)
    clients: dict[str, CrowdSite] = {}
    entries = LedgerEntry.objects.filter(run=run).exclude(state__in=[State.CONFIRMED, State.FAILED])
    if not include_simulated:
        entries = entries.exclude(worker__simulated=True)
    for entry in entries.select_related("worker").order_by("pk"):
        if entry.provider not in clients:
            clients[entry.provider] = sites(entry.provider, run)
        outcome = _carry_out(entry, clients[entry.provider])
        report.counts[outcome] += 1
        entry.refresh_from_db()
        report.rows.append(_row(entry.worker, entry.kind, entry.amount, entry.state, entry.error))
        if outcome == "confirmed" and entry.kind == Kind.BONUS and entry.amount:
            report.bonus_total += entry.amount
    record.finished_at = timezone.now()
    record.summary = report.as_json()
    record.save(update_fields=["finished_at", "summary"])
    audit.record(
        "settle",
        user=user,
        run=run.name,
        via=source,
        counts=dict(report.counts),
        bonus_total=str(report.bonus_total),
        currency=run.currency,
    )
    return report


def _row(
    worker: Worker, kind: str, amount: Decimal | None, state: str, error: str = ""
) -> dict[str, Any]:
    return {
        "worker": worker.pk,
        "provider": worker.provider,
        "status_code": worker.status_code,
        "kind": kind,
        "amount": str(amount) if amount is not None else None,
        "state": state,
        "error": error,
    }


def _write_ledger(run: CollectionRun, planned: Plan, user: Any, source: str) -> Settlement:
    """The plan's rows that are not in the ledger yet, and the settlement's audit record."""
    with transaction.atomic():
        # Two settlements of one run plan one after the other.
        CollectionRun.objects.select_for_update().filter(pk=run.pk).first()
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    run=run,
                    worker=step.worker,
                    kind=step.kind,
                    key=step.key,
                    provider=step.worker.provider,
                    amount=step.amount,
                    currency=run.currency,
                    created_by=user if getattr(user, "pk", None) else None,
                )
                for step in planned.steps
            ],
            ignore_conflicts=True,  # planned before: the ledger's row stands
        )
        return Settlement.objects.create(
            run=run, started_by=user if getattr(user, "pk", None) else None, source=source
        )


def _claim(entry: LedgerEntry) -> bool:
    """Take the row for this process: planned, or sent so long ago its sender is gone."""
    now = timezone.now()
    claimable = Q(state=State.PLANNED) | Q(state=State.SENT, sent_at__lt=now - lease())
    return bool(
        LedgerEntry.objects.filter(claimable, pk=entry.pk).update(
            state=State.SENT, sent_at=now, attempts=F("attempts") + 1
        )
    )


def _submission(entry: LedgerEntry) -> Submission:
    worker = entry.worker
    return Submission(worker.assignment_id, worker.external_id, base.AWAITING_REVIEW)


def _bonus(entry: LedgerEntry) -> Bonus:
    assert entry.amount is not None
    return Bonus(entry.worker.assignment_id, entry.worker.external_id, entry.amount)


def done_on_site(entry: LedgerEntry, site: CrowdSite) -> bool:
    """Whether the site already did what the row asks: read back before sending again."""
    if entry.kind == Kind.BONUS:
        return site.bonus_paid(study_of(entry.worker), _bonus(entry), key=entry.key)
    wanted = base.APPROVED if entry.kind == Kind.APPROVE else base.REJECTED
    for submission in site.submissions(study_of(entry.worker)):
        if submission.id == entry.worker.assignment_id:
            return submission.state == wanted
    return False


def _send(entry: LedgerEntry, site: CrowdSite) -> None:
    worker = entry.worker
    if entry.kind == Kind.APPROVE:
        site.approve(_submission(entry))
    elif entry.kind == Kind.REJECT:
        run = entry.run
        site.reject(
            _submission(entry),
            message=run.rejection_message,
            category=run.rejection_category,
        )
    else:
        create = getattr(site, "create_bonus", None)
        if create is None:
            site.pay_bonus(study_of(worker), _bonus(entry), key=entry.key)
            return
        # Prolific pays a bonus in two calls, the second not idempotent: the payment's id is
        # recorded between them, so that after a crash it is this payment that is checked.
        if not entry.external_id:
            entry.external_id = create(study_of(worker), _bonus(entry))
            LedgerEntry.objects.filter(pk=entry.pk).update(external_id=entry.external_id)
        site.pay_created_bonus(entry.external_id)  # type: ignore[attr-defined]


def _carry_out(entry: LedgerEntry, site: CrowdSite) -> str:
    """Send one row unless another settlement has it; what became of it."""
    left_sent = entry.state == State.SENT
    if not _claim(entry):
        return "in progress elsewhere"
    try:
        if left_sent and done_on_site(entry, site):
            return _confirm(entry)
        _send(entry, site)
    except ProviderError as error:
        return _failed(entry, site, error)
    return _confirm(entry)


def _confirm(entry: LedgerEntry) -> str:
    now = timezone.now()
    with transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(
            state=State.CONFIRMED, confirmed_at=now, error=""
        )
        if entry.kind == Kind.BONUS:
            Worker.objects.filter(pk=entry.worker_id, paid_at__isnull=True).update(paid_at=now)
    return "confirmed"


def _failed(entry: LedgerEntry, site: CrowdSite, error: ProviderError) -> str:
    text = str(error)[:500]
    if error.uncertain:
        try:
            if done_on_site(entry, site):
                return _confirm(entry)
        except ProviderError:
            pass
        # Left sent: the next settlement after the lease reads it back before any resend.
        LedgerEntry.objects.filter(pk=entry.pk).update(error=f"no answer from the site: {text}")
        return "uncertain"
    if error.retryable:
        LedgerEntry.objects.filter(pk=entry.pk).update(state=State.PLANNED, error=text)
        return "to retry"
    LedgerEntry.objects.filter(pk=entry.pk).update(state=State.FAILED, error=text)
    return "failed"


def entries_of(run: CollectionRun) -> Iterable[LedgerEntry]:
    return LedgerEntry.objects.filter(run=run).select_related("worker").order_by("pk")
