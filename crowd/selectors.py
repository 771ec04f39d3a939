"""Reads about workers, with the session binding that identifies a crowdworker."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crowd.devices import DEVICE_SESSION_KEY
from crowd.models import CollectionRun, Worker

SESSION_KEY = "worker_id"


def _holds(worker_device_key: str, session: Any) -> bool:
    """This session's browser holds the worker's task (rows from before devices: any browser)."""
    return not worker_device_key or session.get(DEVICE_SESSION_KEY) == worker_device_key


def current_worker(request: HttpRequest) -> Worker | None:
    """The crowdworker bound to this browser session, or None.

    None too when the task has moved to another browser since (crowd/devices.py).
    """
    worker_id = request.session.get(SESSION_KEY)
    if worker_id is None:
        return None
    # A worker whose data was deleted is no longer anyone's session.
    worker = (
        Worker.objects.select_related("run")
        .filter(pk=worker_id, data_deleted_at__isnull=True)
        .first()
    )
    if worker is None or not _holds(worker.device_key, request.session):
        return None
    return worker


def session_worker_id(session: Any) -> int | None:
    """The worker id a session names, before checking that the worker still holds it."""
    value = session.get(SESSION_KEY)
    return None if value is None else int(value)


def holds_task(worker: Worker, session: Any) -> bool:
    """The worker (device_key and data_deleted_at loaded) is this session's crowdworker."""
    return worker.data_deleted_at is None and _holds(worker.device_key, session)


def worker_id_from_scope(scope: dict[str, Any]) -> int | None:
    """The worker id bound to a websocket's session (Channels' SessionMiddleware scope)."""
    session = scope.get("session")
    if session is None:
        return None
    worker_id = session_worker_id(session)
    if worker_id is None:
        return None
    worker = Worker.objects.filter(pk=worker_id).only("device_key", "data_deleted_at").first()
    if worker is None or not holds_task(worker, session):
        return None
    return worker_id


def run_named(name: str, *, active_only: bool = False) -> CollectionRun | None:
    """The collection run of this name (only an open one with `active_only`), or None."""
    runs = CollectionRun.objects.filter(name=name)
    if active_only:
        runs = runs.filter(is_active=True)
    return runs.first()
