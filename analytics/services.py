"""Reports of a collection run: computed, stored, and the one a page should show.

A small run's report is computed when the page asks (it takes well under a second per
thousand conversations); a run of more than ANALYTICS_SYNC_LIMIT conversations is computed by
the Celery task `analytics.refresh_report` (and by the periodic `analytics.refresh_reports`),
and the page shows the newest stored report meanwhile, saying how old it is. See
docs/analytics.md, "The staff page".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Sum

from analytics.dialogues import run_dialogues
from analytics.models import RunReport
from analytics.plots import figures, svg
from analytics.report import build_report
from chat.dataset.exporting import exportable_conversations
from crowd.models import CollectionRun

# A computation that died leaves its mark at most this long.
REFRESH_LOCK_SECONDS = 15 * 60


def fingerprint(run: CollectionRun, status: str) -> tuple[int, str]:
    """(conversations, a stamp of the set): one aggregate query.

    The set an export of `status` would write, summarised by its size, the sum and the largest
    of its ids and how many have a seeker survey (a survey can arrive after the chat ends).
    """
    summary = exportable_conversations(status=status, run=run).aggregate(
        n=Count("pk"), total=Sum("pk"), top=Max("pk"), surveys=Count("seeker_survey")
    )
    n = int(summary["n"])
    return n, f"{n}:{summary['total'] or 0}:{summary['top'] or 0}:{summary['surveys']}"


def compute(run: CollectionRun, status: str) -> RunReport:
    """Compute the run's report (and its figures) now and store it."""
    _, stamp = fingerprint(run, status)
    started = time.perf_counter()
    report = build_report(run_dialogues(run, status))
    drawn = {name: svg(figure) for name, figure in figures(report)}
    seconds = time.perf_counter() - started
    return RunReport.objects.create(
        run=run, status=status, fingerprint=stamp, report=report, figures=drawn, seconds=seconds
    )


@dataclass(frozen=True)
class Shown:
    """The report a page shows, and whether it still covers the run's current set."""

    report: RunReport | None
    current: bool
    conversations: int


def latest(run: CollectionRun, status: str) -> RunReport | None:
    return RunReport.objects.filter(run=run, status=status).order_by("-computed_at", "-pk").first()


def report_to_show(run: CollectionRun, status: str) -> Shown:
    """The newest report; computed first when it is out of date and the run is small."""
    conversations, stamp = fingerprint(run, status)
    stored = latest(run, status)
    if stored is not None and stored.fingerprint == stamp:
        return Shown(stored, True, conversations)
    if conversations <= settings.ANALYTICS_SYNC_LIMIT:
        return Shown(compute(run, status), True, conversations)
    # One computation at a time per run and status, however often the page is reloaded.
    if cache.add(refreshing_key(run, status), True, timeout=REFRESH_LOCK_SECONDS):
        from analytics.tasks import refresh_report

        refresh_report.delay(run.pk, status)
    return Shown(stored, False, conversations)


def refreshing_key(run: CollectionRun, status: str) -> str:
    return f"analytics:refreshing:{run.pk}:{status}"


def refresh_all() -> int:
    """Recompute every active run's reports whose set changed; return how many were made."""
    made = 0
    for run in CollectionRun.objects.filter(is_active=True):
        for status in RunReport.Status.values:
            stored = latest(run, status)
            if stored is None or stored.fingerprint != fingerprint(run, status)[1]:
                compute(run, status)
                made += 1
    return made
