"""Celery tasks: a run's report computed in the background (analytics.services)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from analytics import services
from crowd.models import CollectionRun


@shared_task(name="analytics.refresh_report", ignore_result=True)
def refresh_report(run_id: int, status: str) -> None:
    run = CollectionRun.objects.filter(pk=run_id).first()
    if run is None:
        return
    try:
        stored = services.latest(run, status)
        if stored is None or stored.fingerprint != services.fingerprint(run, status)[1]:
            services.compute(run, status)
    finally:
        cache.delete(services.refreshing_key(run, status))


@shared_task(name="analytics.refresh_reports", ignore_result=True)
def refresh_reports() -> int:
    return services.refresh_all()
