"""The periodic quality-control job: judge what is new, then release the approved set.

Run by Celery beat or the embedded scheduler (`quality.tasks`) and by hand
(`manage.py run_quality_control`). A release is written only by a run that judged everything
it selected: when another job held some conversations, this run writes none, says so
(`complete` is False) and leaves the release to the next run (docs/quality.md). The chats of
demo runs are never judged or released (docs/operations.md, "The demo run").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from chat.models import Conversation
from crowd.models import CollectionRun
from esc_platform.progress import Progress
from quality.errors import QualityError
from quality.judging import JudgeCounts, judge_pending
from quality.models import Release
from quality.releases import attempt_release
from settlement import recruitment

# Why a run wrote no release (QualityControlResult.release_status), besides ReleaseOutcome's.
NOT_ASKED = "not_asked"  # --no-release / release=False
INCOMPLETE = "incomplete"  # another job held some conversations: no release from this run


@dataclass
class QualityControlResult:
    counts: JudgeCounts
    release: Release | None = None
    # written / unchanged / empty (ReleaseOutcome), incomplete or not_asked.
    release_status: str = NOT_ASKED
    totals: dict[str, int] = field(default_factory=dict)
    # Ended chats of demo runs, which quality control leaves alone (demo_chats_left).
    demo_left: int = 0

    @property
    def complete(self) -> bool:
        return self.counts.complete

    def summary(self) -> str:
        """One line on what was not done, for a run that is not complete."""
        c = self.counts
        return (
            f"incomplete run: {c.skipped} conversations were held by another job and not "
            f"judged by this run, so no release was written; the next run judges and "
            f"releases them (judged {c.judged} meanwhile)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.counts.as_dict(),
            "complete": self.complete,
            "release": self.release.number if self.release else None,
            "release_status": str(self.release_status),
            "demo_left": self.demo_left,
        }


class IncompleteRun(QualityError):
    """A run skipped conversations another job held: it wrote no release and says so."""

    def __init__(self, result: QualityControlResult | str) -> None:
        # Rebuilt from its message alone when unpickled (Celery's pool, result backends).
        super().__init__(result if isinstance(result, str) else result.summary())
        self.result = None if isinstance(result, str) else result


def status_totals(run: CollectionRun | None = None) -> dict[str, int]:
    qs = Conversation.objects.all() if run is None else Conversation.objects.filter(run=run)
    totals = dict.fromkeys(Conversation.QualityStatus.values, 0)
    for status, n in qs.order_by().values_list("quality_status").annotate(n=Count("pk")):
        totals[status] = n
    return totals


def demo_chats_left(run: CollectionRun | None = None) -> int:
    """Ended chats of demo runs: never judged, released or paid (docs/operations.md)."""
    qs = Conversation.objects.filter(
        run__is_demo=True, source_format="", state=Conversation.State.ENDED
    )
    return (qs if run is None else qs.filter(run=run)).count()


def run_quality_control(
    *,
    run: CollectionRun | None = None,
    rejudge: bool = False,
    release: bool = True,
    progress: Progress | None = None,
) -> QualityControlResult:
    """The periodic job: judge what is new, then write a release of the approved set.

    The release is written only when this run judged everything it selected (see the module's
    docstring); check `result.complete`, or call `raise_if_incomplete`. `progress` follows the
    judging (esc_platform.progress).
    """
    counts = judge_pending(run=run, rejudge=rejudge, progress=progress)
    result = QualityControlResult(counts=counts)
    if release:
        if counts.complete:
            attempt = attempt_release()
            result.release, result.release_status = attempt.release, attempt.outcome
        else:
            result.release_status = INCOMPLETE
    result.totals = status_totals(run)
    result.demo_left = demo_chats_left(run)
    # A run that now has enough approved conversations stops recruiting (settlement).
    recruitment.check_targets()
    return result


def raise_if_incomplete(result: QualityControlResult) -> QualityControlResult:
    """Fail (IncompleteRun) when the run skipped work; otherwise return the result."""
    if not result.complete:
        raise IncompleteRun(result)
    return result
