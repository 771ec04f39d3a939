"""What staff read of how a run's messages were written (docs/authenticity.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from crowd import vocabulary
from crowd.models import CollectionRun
from quality.models import Flag, authenticity_kinds

# Short column headings for the dashboard, in the order of authenticity_kinds().
SHORT = {
    "authenticity_pasted": "pasted",
    "authenticity_too_fast": "too fast",
    "authenticity_after_refocus": "after coming back",
    "authenticity_no_composition": "no composition data",
    "authenticity_unconfirmed": "unconfirmed",
}


@dataclass(frozen=True)
class WorkerFlags:
    worker_id: int
    role: str
    counts: list[int]  # per kind, in the order of authenticity_kinds()

    @property
    def total(self) -> int:
        return sum(self.counts)


def flags_by_worker(run: CollectionRun) -> list[WorkerFlags]:
    """Each worker of the run with authenticity flags on their messages, most flagged first."""
    kinds = authenticity_kinds()
    counts: Counter[tuple[int, str, str]] = Counter()
    for speaker, seeker, supporter, kind in Flag.objects.filter(
        conversation__run=run, kind__in=kinds, utterance__isnull=False
    ).values_list(
        "utterance__speaker", "conversation__seeker_id", "conversation__supporter_id", "kind"
    ):
        worker = seeker if speaker == vocabulary.SEEKER else supporter
        if worker is not None:
            counts[worker, speaker, kind] += 1
    workers = sorted({(worker, role) for worker, role, _ in counts})
    rows = [
        WorkerFlags(worker, role, [counts[worker, role, kind] for kind in kinds])
        for worker, role in workers
    ]
    return sorted(rows, key=lambda row: (-row.total, row.worker_id))


def column_headings() -> list[str]:
    return [SHORT.get(kind, kind) for kind in authenticity_kinds()]
