"""Reads about workers, with the session binding that identifies a crowdworker."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crowd.models import CollectionRun, Worker

SESSION_KEY = "worker_id"


def current_worker(request: HttpRequest) -> Worker | None:
    """The crowdworker bound to this browser session, or None."""
    worker_id = request.session.get(SESSION_KEY)
    if worker_id is None:
        return None
    # A worker whose data was deleted is no longer anyone's session.
    return (
        Worker.objects.select_related("run")
        .filter(pk=worker_id, data_deleted_at__isnull=True)
        .first()
    )


def worker_id_from_scope(scope: dict[str, Any]) -> int | None:
    """The worker id bound to a websocket's session (Channels' SessionMiddleware scope)."""
    session = scope.get("session")
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    return int(value) if value is not None else None


def run_named(name: str, *, active_only: bool = False) -> CollectionRun | None:
    """The collection run of this name (only an open one with `active_only`), or None."""
    runs = CollectionRun.objects.filter(name=name)
    if active_only:
        runs = runs.filter(is_active=True)
    return runs.first()
