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


def worker_id_from_scope(scope: dict[str, Any]) -> int | None:
    """The worker id bound to a websocket's session (Channels' SessionMiddleware scope)."""
    session = scope.get("session")
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    if value is None:
        return None
    device = (
        Worker.objects.filter(pk=value, data_deleted_at__isnull=True)
        .values_list("device_key", flat=True)
        .first()
    )
    if device is None or not _holds(device, session):
        return None
    return int(value)


def run_named(name: str, *, active_only: bool = False) -> CollectionRun | None:
    """The collection run of this name (only an open one with `active_only`), or None."""
    runs = CollectionRun.objects.filter(name=name)
    if active_only:
        runs = runs.filter(is_active=True)
    return runs.first()
