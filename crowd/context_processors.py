"""Template context every page may use: whether the session's worker is in a demo run, and
the collection runs the admin index lists. Both are read only when a template uses them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from crowd.models import CollectionRun, Worker
from crowd.selectors import SESSION_KEY

# The admin index lists this many runs, active ones first (the rest are under Collection runs).
ADMIN_INDEX_RUNS = 10


def in_demo_run(request: HttpRequest) -> bool:
    """The browser's worker takes part in a demo run (every worker page then says so)."""
    session = getattr(request, "session", None)
    worker_id = session.get(SESSION_KEY) if session is not None else None
    if worker_id is None:
        return False
    return Worker.objects.filter(
        pk=worker_id, run__is_demo=True, data_deleted_at__isnull=True
    ).exists()


def _admin_runs() -> QuerySet[CollectionRun]:
    return CollectionRun.objects.order_by("-is_active", "is_demo", "-created_at")[:ADMIN_INDEX_RUNS]


def demo_run(request: HttpRequest) -> dict[str, object]:
    """`demo_run`: true on the pages of a worker in a demo run (templates/includes/demo_banner)."""
    return {"demo_run": SimpleLazyObject(lambda: in_demo_run(request))}


def admin_runs(request: HttpRequest) -> dict[str, object]:
    """`admin_runs`: the runs templates/admin/index.html links to, for staff only."""

    def runs() -> list[CollectionRun]:
        user = getattr(request, "user", None)
        return list(_admin_runs()) if user is not None and user.is_staff else []

    return {"admin_runs": SimpleLazyObject(runs)}
