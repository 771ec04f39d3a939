"""The Celery application, configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")

app = Celery("esc_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure_broker() -> None:
    # settings is lazy: reading it here (after DJANGO_SETTINGS_MODULE is set) loads it.
    app.conf.broker_url = settings.CELERY_BROKER_URL_EFFECTIVE
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


_configure_broker()
app.autodiscover_tasks()
