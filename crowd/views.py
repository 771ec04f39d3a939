"""Crowd-facing pages: landing, entry from the crowd site, consent, routing, and the status page."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from crowd import dashboard, services
from crowd.decorators import worker_required
from crowd.entry import EntryLinkError, parse_entry_link
from crowd.models import CollectionRun, StatusCode, Worker
from crowd.stages import stage_url


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def start(request: HttpRequest) -> HttpResponse:
    """Entry link from the crowd site: identify the worker, bind the session, resume."""
    try:
        link = parse_entry_link(request.GET)
        worker = services.enter_worker(request, link)
    except EntryLinkError as exc:
        return render(request, "crowd/bad_link.html", {"problem": str(exc)}, status=400)
    return redirect(stage_url(worker))


@worker_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, worker: Worker) -> HttpResponse:
    if worker.stage != Worker.Stage.CONSENT:
        return redirect(stage_url(worker))
    if request.method == "POST":
        if request.POST.get("agree") != "yes":
            return render(
                request,
                "crowd/consent.html",
                {"worker": worker, "error": "Please tick the box to agree before you continue."},
                status=400,
            )
        worker = services.give_consent(worker)
        return redirect(stage_url(worker))
    return render(request, "crowd/consent.html", {"worker": worker})


@worker_required
def next_step(request: HttpRequest, worker: Worker) -> HttpResponse:
    return redirect(stage_url(worker))


# What each status code means to the worker who reads it (docs/quality.md).
_STATUS_TEXT: dict[str, tuple[str, str]] = {
    StatusCode.FAILED_TRAINING: (
        "Thank you for taking the training",
        "You did not pass the training quiz, so you were not matched for a chat. "
        "You receive the base payment.",
    ),
    StatusCode.LEFT_EARLY: (
        "Your task has ended",
        "You left the task before it was finished. You receive the base payment.",
    ),
    StatusCode.PARTNER_UNRESPONSIVE: (
        "Thank you — this was not your fault",
        "Your partner stopped responding, or no partner became available in time. "
        "You are paid for the time you gave.",
    ),
    StatusCode.FINISHED: (
        "Thank you — your task is complete",
        "You finished the conversation and the survey. You receive the full payment.",
    ),
}


@worker_required
def status(request: HttpRequest, worker: Worker) -> HttpResponse:
    """The final page: the status code, what it means, the pay and the way back to the site."""
    if worker.stage != Worker.Stage.DONE:
        return redirect(stage_url(worker))
    run = worker.run
    headline, meaning = _STATUS_TEXT.get(worker.status_code, ("Thank you", ""))
    mturk_submit_url = ""
    if (
        run.completion_mode == run.CompletionMode.MTURK
        and worker.assignment_id
        and worker.status_code
    ):
        mturk_submit_url = run.completion_url_template
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
    }
    return render(request, "crowd/dashboard.html", context)
