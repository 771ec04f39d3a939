"""The periodic jobs inside the web server, for the embedded default (no Celery broker).

With a broker, Celery beat runs `CELERY_BEAT_SCHEDULE`. `make run` has none (eager Celery, one
uvicorn process), so the ASGI module wraps its application with `with_embedded_scheduler()`:
when `EMBEDDED_SCHEDULER` is on (`make run` sets it) and `CELERY_BROKER_URL` is not, an
APScheduler `AsyncIOScheduler` on the server's own event loop runs the very same entries (task
name, interval, args) — one schedule, read from the settings — each in a worker thread, the way
a Celery worker would run it. It starts at the ASGI lifespan's startup (or, when the server
runs with `--lifespan off`, at the first connection) and stops at its shutdown. Otherwise the
application is returned untouched: manage.py commands, Celery processes and tests importing the
ASGI module never start it (a test may call `start()` itself, inside an event loop).

Running in the server process matters beyond "no other process to start": the in-memory channel
layer reaches only this process, and a job that ends a chat (the abandoned-chat sweep) relays
its `ended` event through the server's loop (asgiref routes `async_to_sync` from our worker
thread back to it), so the open pages are told.

One scheduler per server process: run one uvicorn process (`--workers 1`, as `make run` does),
as the in-memory channel layer requires anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

_scheduler: AsyncIOScheduler | None = None


@dataclass(frozen=True)
class PeriodicJob:
    """One CELERY_BEAT_SCHEDULE entry: which task, how often (seconds), with what arguments."""

    name: str
    task: str
    seconds: float
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def _seconds(name: str, schedule: Any) -> float:
    if isinstance(schedule, int | float):
        seconds = float(schedule)
    elif isinstance(schedule, timedelta):
        seconds = schedule.total_seconds()
    elif isinstance(getattr(schedule, "run_every", None), timedelta):  # celery.schedules.schedule
        seconds = schedule.run_every.total_seconds()
    else:
        raise ImproperlyConfigured(
            f"CELERY_BEAT_SCHEDULE[{name!r}]: the embedded scheduler runs fixed intervals only "
            f"(a number of seconds or a timedelta), not {schedule!r}"
        )
    if seconds <= 0:
        raise ImproperlyConfigured(f"CELERY_BEAT_SCHEDULE[{name!r}]: the interval must be > 0")
    return seconds


def periodic_jobs(schedule: dict[str, Any] | None = None) -> list[PeriodicJob]:
    """The jobs of a beat schedule (by default the settings' CELERY_BEAT_SCHEDULE)."""
    entries = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
    return [
        PeriodicJob(
            name=name,
            task=entry["task"],
            seconds=_seconds(name, entry["schedule"]),
            args=tuple(entry.get("args", ())),
            kwargs=dict(entry.get("kwargs", {})),
        )
        for name, entry in entries.items()
    ]


def _check_tasks(jobs: list[PeriodicJob]) -> None:
    """Load every app's tasks module (a web process imports none by itself); refuse unknowns."""
    from esc_platform.celery import app

    app.loader.import_default_modules()
    unknown = [job.task for job in jobs if job.task not in app.tasks]
    if unknown:
        raise ImproperlyConfigured(f"CELERY_BEAT_SCHEDULE names unknown tasks: {unknown}")


def run_task(job: PeriodicJob) -> Any:
    """Run one job's task eagerly in this (worker) thread; its failure is logged, not raised.

    `apply()` runs it as a worker would (retries included), without a broker, and Celery logs
    the outcome as a worker does ("Task … succeeded in …" / "… raised …" with the traceback).
    The thread's database connection is closed afterwards: these threads outlive the job.
    """
    from esc_platform.celery import app

    close_old_connections()
    try:
        result = app.tasks[job.task].apply(args=job.args, kwargs=job.kwargs, throw=False)
    except Exception:  # outside the task itself; the schedule goes on
        logger.exception("periodic job %s (%s) could not run", job.name, job.task)
        return None
    finally:
        connections.close_all()
    return result.result


async def _run_job(job: PeriodicJob) -> None:
    # A thread of its own (not the thread-sensitive one HTTP views share): a long judging run
    # must not hold up requests. Inside it, async_to_sync(...) runs on this event loop.
    await sync_to_async(run_task, thread_sensitive=False)(job)


def start(schedule: dict[str, Any] | None = None) -> AsyncIOScheduler:
    """Start the jobs on the running event loop (call from inside it); idempotent."""
    global _scheduler
    if _scheduler is not None and _scheduler.running:
        return _scheduler
    jobs = periodic_jobs(schedule)
    _check_tasks(jobs)
    quiet = logging.getLogger("apscheduler")
    if quiet.level == logging.NOTSET:
        quiet.setLevel(logging.WARNING)  # not two INFO lines a second; our own line per run
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            _run_job,
            "interval",
            seconds=job.seconds,
            args=[job],
            id=job.name,
            name=f"{job.name} ({job.task})",
            max_instances=1,  # a run still going when the next is due: the next is skipped
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.start()
    _scheduler = scheduler
    logger.info(
        "embedded scheduler started: %s",
        ", ".join(f"{job.task} every {job.seconds:g} s" for job in jobs),
    )
    return scheduler


def stop() -> None:
    """Stop the jobs (a job already running finishes in its thread)."""
    global _scheduler
    if _scheduler is not None and _scheduler.running:
        _scheduler.shutdown(wait=False)
    _scheduler = None


class EmbeddedScheduler:
    """ASGI middleware: the periodic jobs start and stop with the server's event loop."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if _scheduler is None:  # served with --lifespan off: start at the first connection
            start()
        await self.application(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    start()
                except Exception as exc:
                    logger.exception("the embedded scheduler did not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def with_embedded_scheduler(application: Any) -> Any:
    """`application`, wrapped to run the periodic jobs when this is the embedded default.

    Called by esc_platform/asgi.py. Wraps only when EMBEDDED_SCHEDULER is on and no Celery
    broker is configured (then Celery beat runs the jobs); nothing starts until a server runs
    the application.
    """
    if not settings.EMBEDDED_SCHEDULER:
        return application
    if settings.CELERY_BROKER_URL:
        logger.info("EMBEDDED_SCHEDULER ignored: a Celery broker is set, so beat runs the jobs")
        return application
    return EmbeddedScheduler(application)
