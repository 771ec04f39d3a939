"""Periodic chat jobs. Safe to run twice: every claim is a conditional UPDATE."""

from __future__ import annotations

from celery import shared_task

from chat import endings, matching


@shared_task
def release_stale_waiting_workers() -> int:
    """Match who can be matched, then release workers who waited longer than their run allows."""
    return matching.release_stale_waiting_workers()


@shared_task
def end_abandoned_conversations() -> int:
    """End chats that both workers abandoned, so nobody is left without a status."""
    return endings.end_abandoned_conversations()
