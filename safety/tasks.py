"""Celery task: one safety flag's alert sent by email and webhook (safety.alerts).

Tasks are acknowledged late, so a worker that dies mid-send leaves the task to another one:
an alert may then arrive twice, which staff can live with (the flag id tells them apart); an
alert that is lost they cannot. A channel that failed is tried again on its own, with a
growing delay, so a webhook that is down does not send the email again and again.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.db import DatabaseError

from safety import alerts

MAX_RETRIES = 5
# Seconds before the first retry; each later one waits twice as long (10 s … 160 s).
FIRST_RETRY_SECONDS = 10


class AlertNotDelivered(Exception):
    """A channel of a safety alert failed every try; the message names only flag and channels."""


@shared_task(
    name="safety.tasks.send_safety_alert",
    bind=True,
    ignore_result=True,
    max_retries=MAX_RETRIES,
    # Reading the flag can meet a database that is restarting: try again like a channel.
    autoretry_for=(DatabaseError, OSError),
    retry_backoff=FIRST_RETRY_SECONDS,
)
def send_safety_alert(self: Task, flag_id: int, channels: list[str] | None = None) -> None:
    sent = alerts.deliver(flag_id, channels)
    failed = sorted(channel for channel, ok in sent.items() if not ok)
    if not failed:
        return
    countdown = FIRST_RETRY_SECONDS * 2**self.request.retries
    raise self.retry(
        args=(flag_id,),
        kwargs={"channels": failed},
        countdown=countdown,
        exc=AlertNotDelivered(f"flag {flag_id}: {', '.join(failed)} not delivered"),
    )
