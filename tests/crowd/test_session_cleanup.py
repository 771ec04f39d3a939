"""Expired sessions are deleted by a periodic job (Celery beat and the embedded scheduler)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from crowd.tasks import clear_expired_sessions
from esc_platform import scheduler
from tests.cast import ALICE, BOB
from tests.crowd.factories import enter

pytestmark = pytest.mark.django_db


def test_expired_sessions_are_deleted_and_live_ones_kept(
    alice_client: Client, bob_client: Client
) -> None:
    enter(ALICE, client=alice_client)
    enter(BOB, client=bob_client)
    stale = alice_client.session.session_key
    Session.objects.filter(session_key=stale).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert clear_expired_sessions.delay().get() == 1

    assert list(Session.objects.values_list("session_key", flat=True)) == [
        bob_client.session.session_key
    ]
    assert bob_client.get("/next/").status_code == 302  # Bob is still recognised
    assert clear_expired_sessions.delay().get() == 0  # a second run finds nothing to do


def test_the_job_is_on_the_schedule_both_ways_run() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["crowd-clear-expired-sessions"]
    assert entry == {"task": "crowd.tasks.clear_expired_sessions", "schedule": 6 * 60 * 60.0}
    jobs = {job.name: job for job in scheduler.periodic_jobs()}
    assert jobs["crowd-clear-expired-sessions"].task == "crowd.tasks.clear_expired_sessions"
    from esc_platform.celery import app

    app.loader.import_default_modules()
    assert "crowd.tasks.clear_expired_sessions" in app.tasks
