"""Crowd-facing pages: landing, entry from the crowd site, consent, routing, and the status page."""

from __future__ import annotations

import hashlib

from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from authenticity import selectors as authenticity_selectors
from crowd import consent as consent_texts
from crowd import dashboard, services
from crowd.decorators import worker_required
from crowd.devices import remember_device
from crowd.entry import EntryLink, EntryLinkError, parse_entry_link
from crowd.models import CollectionRun, TaskOutcome, Worker
from crowd.selectors import current_worker
from crowd.stages import stage_url
from esc_platform.ratelimits import limit_rate
from safety import review as safety_review


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


@limit_rate("entry-burst", "ENTRY_BURST_PER_IP")
@limit_rate("entry", "ENTRY_RATE_PER_IP")
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Entry link from the crowd site: identify the worker, hold the browser, bind, resume.

    A GET that would move a browser away from a task it still holds only asks; the move takes
    a POST (with its CSRF token), so no other site can switch a worker's browser silently.
    """
    params = request.POST if request.method == "POST" else request.GET
    try:
        link = parse_entry_link(params)
        held = current_worker(request)
        if request.method == "GET" and held is not None and _leaves_live_task(held, link):
            return render(request, "crowd/switch_task.html", {"params": _link_fields(params)})
        browser = services.Browser.of(request)
        worker = services.enter_worker(request, link, browser)
    except EntryLinkError as exc:
        context = {"problem": str(exc), "headline": exc.headline}
        return render(request, "crowd/bad_link.html", context, status=exc.status)
    response = redirect(stage_url(worker))
    remember_device(response, browser.secret)
    return response


def _leaves_live_task(held: Worker, link: EntryLink) -> bool:
    """The link is another worker's while this browser's own task is not finished."""
    same = (
        held.provider == link.provider
        and held.external_id == link.external_id
        and (not link.run_name or held.run.name == link.run_name)
    )
    return not same and held.stage != Worker.Stage.DONE


# The entry link's parameters a confirmation form carries on (crowd.entry reads them).
_LINK_FIELDS = (
    "role",
    "run",
    "PROLIFIC_PID",
    "STUDY_ID",
    "SESSION_ID",
    "workerId",
    "assignmentId",
    "hitId",
    "rehearsal",
)


def _link_fields(params: QueryDict) -> list[tuple[str, str]]:
    return [(key, str(params.get(key, ""))) for key in _LINK_FIELDS if key in params]


@worker_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, worker: Worker) -> HttpResponse:
    """The run's consent text for the worker's role; agreeing records the version they read."""
    if worker.stage != Worker.Stage.CONSENT:
        return redirect(stage_url(worker))
    text = consent_texts.filled_text(worker.run, worker.role)
    digest = hashlib.sha256(text.encode()).hexdigest()
    error = ""
    if request.method == "POST":
        if request.POST.get("text") != digest:
            error = "The text below was updated since you opened the page. Please read it again."
        elif request.POST.get("agree") != "yes":
            error = "Please tick the box to agree before you continue."
        else:
            version = consent_texts.record(worker.run, worker.role, text)
            return redirect(stage_url(services.give_consent(worker, version)))
    context = {"worker": worker, "consent": consent_texts.as_html(text), "digest": digest}
    return render(
        request, "crowd/consent.html", {**context, "error": error}, status=400 if error else 200
    )


@worker_required
def next_step(request: HttpRequest, worker: Worker) -> HttpResponse:
    return redirect(stage_url(worker))


# What each outcome means to the worker who reads it (docs/quality.md): the status code is
# the same 02 for three of them, but what happened is not.
_OUTCOME_TEXT: dict[str, tuple[str, str]] = {
    TaskOutcome.FAILED_TRAINING: (
        "Thank you for taking the training",
        "You did not pass the training quiz, so you were not matched for a chat. "
        "You receive the base payment.",
    ),
    TaskOutcome.LEFT_EARLY: (
        "Your task has ended",
        "You left the task before it was finished. You receive the base payment.",
    ),
    TaskOutcome.RELEASED_FROM_WAITING: (
        "Thank you for waiting — this was not your fault",
        "No partner became available in time, so you were not matched for a chat. "
        "You are paid for the time you gave.",
    ),
    TaskOutcome.PARTNER_LEFT: (
        "Thank you — this was not your fault",
        "Your partner left the conversation before it was finished. "
        "You are paid for the time you gave.",
    ),
    TaskOutcome.PARTNER_UNRESPONSIVE: (
        "Thank you — this was not your fault",
        "Your partner stopped responding, so the conversation ended early. "
        "You are paid for the time you gave.",
    ),
    TaskOutcome.FINISHED: (
        "Thank you — your task is complete",
        "You finished the conversation and the survey. You receive the full payment.",
    ),
}


@worker_required
def status(request: HttpRequest, worker: Worker) -> HttpResponse:
    """The final page: the status code, what it means, the pay and the way back to the site."""
    if worker.stage != Worker.Stage.DONE:
        return redirect(stage_url(worker))
    headline, meaning = _OUTCOME_TEXT.get(worker.outcome, ("Thank you", ""))
    mturk_submit_url = services.mturk_submit_url_for(worker) if worker.status_code else ""
    context = {
        "worker": worker,
        "headline": headline,
        "meaning": meaning,
        "completion_code": services.completion_code_for(worker),
        "completion_url": services.completion_url_for(worker),
        "mturk_submit_url": mturk_submit_url,
    }
    return render(request, "crowd/status.html", context)


@staff_member_required
def run_dashboard(request: HttpRequest, name: str) -> HttpResponse:
    """Staff page: how a collection run is going (workers, conversations, surveys, pay)."""
    run = get_object_or_404(CollectionRun, name=name)
    board = dashboard.run_dashboard(run)
    duration = board.average_duration
    context = {
        "board": board,
        "duration_minutes": duration.total_seconds() / 60 if duration is not None else None,
        "alerts": safety_review.open_alerts(run),
        "alerts_run": run.name,
        "written": authenticity_selectors.flags_by_worker(run),
        "written_columns": authenticity_selectors.column_headings(),
    }
    return render(request, "crowd/dashboard.html", context)
