"""Celery tasks of quality control: thin wrappers around one service call each."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from crowd.models import CollectionRun
from quality import services


@shared_task(
    name="quality.run_quality_control",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def run_quality_control(run_name: str | None = None, release: bool = True) -> dict[str, Any]:
    """Judge newly ended conversations, then write a release if the approved set changed.

    Safe to run twice or concurrently: judging claims each conversation and a release is only
    written when its content differs from the previous one.
    """
    run = CollectionRun.objects.get(name=run_name) if run_name else None
    result = services.run_quality_control(run=run, release=release)
    return {
        **result.counts.as_dict(),
        "release": result.release.number if result.release else None,
    }
