"""Writes about workers: entry, consent, stage changes, and how a task ended (status and pay)."""

from __future__ import annotations

import enum
from decimal import Decimal
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from crowd import vocabulary
from crowd.entry import EntryLink, EntryLinkError
from crowd.models import CollectionRun, StatusCode, Worker
from crowd.selectors import SESSION_KEY, run_named


class TaskOutcome(enum.Enum):
    """How a worker's part ended; the only input to the status code and pay."""

    FAILED_TRAINING = "failed_training"
    LEFT_EARLY = "left_early"
    RELEASED_FROM_WAITING = "released_from_waiting"
    PARTNER_UNRESPONSIVE = "partner_unresponsive"
    FINISHED = "finished"


_STATUS_OF_OUTCOME: dict[TaskOutcome, StatusCode] = {
    TaskOutcome.FAILED_TRAINING: StatusCode.FAILED_TRAINING,
    TaskOutcome.LEFT_EARLY: StatusCode.LEFT_EARLY,
    # Nobody came to chat with them: not their fault, so they are paid like a partner who left.
    TaskOutcome.RELEASED_FROM_WAITING: StatusCode.PARTNER_UNRESPONSIVE,
    TaskOutcome.PARTNER_UNRESPONSIVE: StatusCode.PARTNER_UNRESPONSIVE,
    TaskOutcome.FINISHED: StatusCode.FINISHED,
}


def pay_for(run: CollectionRun, role: str, status: StatusCode | str) -> Decimal:
    """Total pay of a worker with this status; base and bonus from the run (docs/quality.md).

    00 and 01 earn the base; 02 earns base x bonus for a seeker and base x 10*bonus for a
    supporter; 03 earns base x 10*bonus for both. Rounded to cents.
    """
    status = StatusCode(status)
    if status == StatusCode.FAILED_TRAINING and role != vocabulary.SUPPORTER:
        raise ValueError("Only supporters take the training, so only they can fail it (00).")
    base = run.base_pay
    if status == StatusCode.PARTNER_UNRESPONSIVE:
        multiplier = run.bonus if role == vocabulary.SEEKER else 10 * run.bonus
    elif status == StatusCode.FINISHED:
        multiplier = 10 * run.bonus
    else:
        multiplier = Decimal(1)
    return (base * multiplier).quantize(Decimal("0.01"))


def _open_run(name: str) -> CollectionRun:
    """The run an entry link names; no name means the default run."""
    if not name:
        return CollectionRun.get_default()
    run = run_named(name, active_only=True)
    if run is None:
        raise EntryLinkError("The link names a collection run that is not open.")
    return run


def enter_worker(request: HttpRequest, link: EntryLink) -> Worker:
    """Find or create the worker of an entry link and bind them to this browser session.

    The same crowd-site id always resumes the same worker; it never creates a second one.
    """
    run = _open_run(link.run_name)
    defaults = {
        "role": link.role,
        "study_id": link.study_id,
        "assignment_id": link.assignment_id,
        "hit_id": link.hit_id,
        "qualification": (
            Worker.Qualification.NOT_STARTED
            if link.role == vocabulary.SUPPORTER
            else Worker.Qualification.NOT_APPLICABLE
        ),
    }
    try:
        with transaction.atomic():
            worker, _ = Worker.objects.get_or_create(
                run=run, provider=link.provider, external_id=link.external_id, defaults=defaults
            )
    except IntegrityError:
        # Two tabs arrived at once: the other one created the row.
        worker = Worker.objects.get(run=run, provider=link.provider, external_id=link.external_id)
    if worker.role != link.role:
        raise EntryLinkError(
            f"This worker id already takes part as a {worker.role}; "
            f"it cannot also be a {link.role}."
        )
    if worker.data_deleted_at is not None:
        raise EntryLinkError("This worker's data was deleted at their request.")
    if request.session.get(SESSION_KEY) != worker.pk:
        request.session.cycle_key()
    request.session[SESSION_KEY] = worker.pk
    return worker


def give_consent(worker: Worker) -> Worker:
    """Record consent and move the worker to the first step of their role."""
    updated = Worker.objects.filter(pk=worker.pk, stage=Worker.Stage.CONSENT).update(
        consented_at=timezone.now(),
        stage=Worker.Stage.TUTORIAL if worker.is_supporter else Worker.Stage.PRE_SURVEY,
    )
    worker.refresh_from_db()
    if updated and worker.is_supporter and worker.qualification == Worker.Qualification.NOT_STARTED:
        Worker.objects.filter(pk=worker.pk).update(qualification=Worker.Qualification.IN_TRAINING)
        worker.refresh_from_db()
    return worker


def record_outcome(worker: Worker, outcome: TaskOutcome) -> Worker:
    """Give the worker the status code and pay of how their task ended. First outcome wins.

    Computed only from the outcome the server observed, never from what a browser claims. A
    second call (a retried request, both partners ending at once) changes nothing: the update
    only touches a worker with no status yet.
    """
    status = _STATUS_OF_OUTCOME[outcome]
    run = worker.run
    total = pay_for(run, worker.role, status)
    Worker.objects.filter(pk=worker.pk, status_code="").update(
        status_code=status,
        pay_base=run.base_pay,
        pay_total=total,
        finished_at=timezone.now(),
    )
    worker.refresh_from_db()
    return worker


def enter_waiting_room(worker: Worker) -> Worker:
    """Put a qualified supporter or a surveyed seeker in the matching queue (oldest first)."""
    Worker.objects.filter(pk=worker.pk).update(
        stage=Worker.Stage.WAITING, waiting_since=timezone.now()
    )
    worker.refresh_from_db()
    return worker


# Stages after the task has ended: a late or repeated finish never moves a worker back.
_ENDED_STAGES = (Worker.Stage.POST_SURVEY, Worker.Stage.DONE)


def finish_worker(worker: Worker, outcome: TaskOutcome, *, post_survey: bool) -> Worker:
    """Record how the task ended and move the worker to the post-chat survey or the status page.

    Safe to call twice: the first outcome is kept, and a worker already at the post-chat survey
    or done stays where they are.
    """
    with transaction.atomic():
        worker = record_outcome(worker, outcome)
        stage = Worker.Stage.POST_SURVEY if post_survey else Worker.Stage.DONE
        Worker.objects.filter(pk=worker.pk).exclude(stage__in=_ENDED_STAGES).update(stage=stage)
    worker.refresh_from_db()
    return worker


def complete_task(worker: Worker) -> Worker:
    """Move a worker whose task has ended (post-chat survey answered or not owed) to done."""
    Worker.objects.filter(pk=worker.pk, stage=Worker.Stage.POST_SURVEY).update(
        stage=Worker.Stage.DONE
    )
    worker.refresh_from_db()
    return worker


def completion_code_for(worker: Worker) -> str:
    """The code the worker gives the crowd site: the run's code for their status, else their own."""
    codes = worker.run.site_completion_codes or {}
    site_code = codes.get(worker.status_code) if isinstance(codes, dict) else None
    return str(site_code) if site_code else worker.completion_code


def completion_url_for(worker: Worker) -> str:
    """The Prolific-style return link ("{code}" and "{status}" filled in), or "" if none."""
    run = worker.run
    if run.completion_mode != CollectionRun.CompletionMode.PROLIFIC:
        return ""
    template = run.completion_url_template
    if not template or not worker.status_code:
        return ""
    return template.replace("{code}", quote(completion_code_for(worker), safe="")).replace(
        "{status}", worker.status_code
    )
