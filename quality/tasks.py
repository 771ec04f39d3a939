"""Celery tasks of quality control: thin wrappers around one service call each."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from crowd.models import CollectionRun
from crowd.selectors import run_named
from quality.job import raise_if_incomplete
from quality.job import run_quality_control as run_job


@shared_task(
    name="quality.run_quality_control",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def run_quality_control(run_name: str | None = None, release: bool = True) -> dict[str, Any]:
    """Judge newly ended conversations, then write a release if the approved set changed.

    Safe to run twice, concurrently, and again after its worker was killed (the settings
    requeue such a task: CELERY_TASK_REJECT_ON_WORKER_LOST): judging takes each chunk in one
    transaction, and a release is only written when its content differs from the previous one.
    A run that found conversations held by another job writes no release and FAILS with
    IncompleteRun (it is not retried: the next beat run completes it), so no run reports
    success for work it skipped. An unknown run name fails the task
    (CollectionRun.DoesNotExist), as it always has.
    """
    run = None
    if run_name:
        run = run_named(run_name)
        if run is None:
            raise CollectionRun.DoesNotExist(f"no collection run named {run_name!r}")
    result = raise_if_incomplete(run_job(run=run, release=release))
    return result.as_dict()
