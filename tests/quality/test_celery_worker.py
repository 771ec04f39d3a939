"""The periodic job on a REAL Celery worker process (Redis broker, shared test database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.models import Conversation
from quality.models import Decision, Release
from quality.tasks import run_quality_control
from tests.celery_support import CeleryWorker
from tests.quality.factories import make_conversation


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_judges_an_ended_conversation_and_releases_it_on_a_real_worker(
    exporter: None, celery_worker_process: CeleryWorker
) -> None:
    good = make_conversation()
    unfinished = make_conversation(end_reason="seeker_left")

    run_quality_control.delay()

    celery_worker_process.wait_for(lambda: Release.objects.exists(), timeout=60)
    good.refresh_from_db()
    unfinished.refresh_from_db()
    assert (good.quality_status, unfinished.quality_status) == ("approved", "filtered")
    assert Decision.objects.count() == 2
    release = Release.objects.get()
    path = Path(release.path)
    assert path.parent == Path(celery_worker_process.env["ESCONV_EXPORT_DIR"])
    data = json.loads(path.read_text())
    assert release.count == len(data) == 1
    assert data[0]["situation"] == Conversation.objects.get(pk=good.pk).situation


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_judges_each_conversation_once_when_the_job_runs_twice(
    celery_worker_process: CeleryWorker,
) -> None:
    conversations = [make_conversation() for _ in range(3)]
    make_conversation(relevance=3, empathy=2)

    first = run_quality_control.delay(release=False)
    second = run_quality_control.delay(release=False)
    assert first.id != second.id

    celery_worker_process.wait_for(
        lambda: not Conversation.objects.filter(quality_status="pending").exists(), timeout=60
    )
    # Both runs are consumed before we look at the counts.
    celery_worker_process.wait_for(
        lambda: celery_worker_process.log().count("succeeded in") >= 2, timeout=30
    )
    assert Decision.objects.count() == 4
    assert sorted(Conversation.objects.values_list("quality_status", flat=True)) == [
        "approved",
        "approved",
        "approved",
        "review",
    ]
    assert {c.pk for c in conversations} <= set(
        Decision.objects.values_list("conversation_id", flat=True)
    )
