"""The periodic quality-control job: judge what is new, then release the approved set.

Run by Celery beat (`quality.tasks`) and by hand (`manage.py run_quality_control`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from chat.models import Conversation
from crowd.models import CollectionRun
from quality.judging import JudgeCounts, judge_pending
from quality.models import Release
from quality.releases import write_release


@dataclass
class QualityControlResult:
    counts: JudgeCounts
    release: Release | None = None
    totals: dict[str, int] = field(default_factory=dict)


def status_totals(run: CollectionRun | None = None) -> dict[str, int]:
    qs = Conversation.objects.all() if run is None else Conversation.objects.filter(run=run)
    totals = dict.fromkeys(Conversation.QualityStatus.values, 0)
    for status, n in qs.order_by().values_list("quality_status").annotate(n=Count("pk")):
        totals[status] = n
    return totals


def run_quality_control(
    *, run: CollectionRun | None = None, rejudge: bool = False, release: bool = True
) -> QualityControlResult:
    """The periodic job: judge what is new, then write a release of the approved set."""
    counts = judge_pending(run=run, rejudge=rejudge)
    result = QualityControlResult(counts=counts)
    if release:
        result.release = write_release()
    result.totals = status_totals(run)
    return result
