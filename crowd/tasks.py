"""Periodic crowd jobs: expired sessions are deleted, so one row per entry link does not pile up."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task
def clear_expired_sessions() -> int:
    """Delete expired sessions the way `manage.py clearsessions` does; return how many were.

    Safe to run twice or from two workers at once: each run deletes what has expired by then.
    """
    engine = import_module(settings.SESSION_ENGINE)
    counting = settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    before = Session.objects.filter(expire_date__lt=timezone.now()).count() if counting else 0
    engine.SessionStore.clear_expired()
    return before
