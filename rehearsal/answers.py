"""The quiz's right answers, for simulated supporters only.

The simulator runs beside the server's database, as staff would, and reads the right place
of each question its supporter is shown from the attempt the server drew. It does so only for
a worker that entered with the rehearsal token (`Worker.simulated`): for anyone else it
refuses, so the rehearsal can never be used to answer a real worker's quiz.
"""

from __future__ import annotations

from crowd.models import CollectionRun, Worker
from tutorial.models import AttemptItem


class NotSimulated(Exception):
    pass


def right_places(run: CollectionRun, external_id: str) -> dict[str, int]:
    """Item key → the place of its right option in the order the worker's open attempt shows."""
    worker = Worker.objects.filter(run=run, external_id=external_id).first()
    if worker is None or not worker.simulated:
        raise NotSimulated(f"{external_id} is not a simulated worker of run {run.name}")
    drawn = AttemptItem.objects.filter(
        attempt__worker=worker, attempt__submitted_at__isnull=True
    ).select_related("item")
    return {row.item.key: list(row.option_order).index(row.item.correct_option) for row in drawn}
