"""Crowd-site jobs: a webhook's event processed, and the periodic poll. Safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from settlement import sync
from settlement.models import SiteEvent
from settlement.webhooks import STATUS_CHANGE

# Prolific's statuses in a webhook, in the platform's words (those that matter here).
_PROLIFIC_STATES = {"RETURNED": sync.base.RETURNED, "TIMED-OUT": sync.base.TIMED_OUT}


@shared_task(name="settlement.process_site_event")
def process_site_event(pk: int) -> str:
    event = SiteEvent.objects.filter(pk=pk, processed_at__isnull=True).first()
    if event is None:
        return "already processed"
    payload = event.payload
    if payload.get("event_type") != STATUS_CHANGE:
        result = "not a submission's status change"
    else:
        state = _PROLIFIC_STATES.get(str(payload.get("status", "")).upper(), "other")
        result = sync.submission_changed(
            "prolific",
            str(payload.get("resource_id", "")),
            str(payload.get("participant_id", "")),
            state,
        )
    SiteEvent.objects.filter(pk=pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), result=result[:200]
    )
    return result


@shared_task(name="settlement.sync_crowd_sites")
def sync_crowd_sites() -> dict[str, int]:
    """What a webhook missed: returned and timed-out submissions, read from the site."""
    return dict(sync.poll())
