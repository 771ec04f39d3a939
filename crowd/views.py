"""Crowd-facing pages: landing, entry from the crowd site, consent, routing, and the status page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from crowd import services
from crowd.entry import EntryLinkError, parse_entry_link
from crowd.models import Worker
from crowd.selectors import current_worker

# Where each stage of a worker's journey is served. Every app provides its URL name.
STAGE_URL_NAMES: dict[str, str] = {
    Worker.Stage.CONSENT: "crowd:consent",
    Worker.Stage.TUTORIAL: "tutorial:index",
    Worker.Stage.PRE_SURVEY: "surveys:pre_chat",
    Worker.Stage.WAITING: "chat:waiting",
    Worker.Stage.CHATTING: "chat:room",
    Worker.Stage.POST_SURVEY: "surveys:post_chat",
    Worker.Stage.DONE: "crowd:status",
}


def stage_url(worker: Worker) -> str:
    return reverse(STAGE_URL_NAMES[worker.stage])


def worker_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages for crowdworkers: a browser with no worker gets the 'use your link' page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        worker = current_worker(request)
        if worker is None:
            return render(request, "crowd/no_session.html", status=403)
        request.worker = worker  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


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
def consent(request: HttpRequest) -> HttpResponse:
    worker: Worker = request.worker  # type: ignore[attr-defined]
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
def next_step(request: HttpRequest) -> HttpResponse:
    worker: Worker = request.worker  # type: ignore[attr-defined]
    return redirect(stage_url(worker))


@worker_required
def status(request: HttpRequest) -> HttpResponse:
    worker: Worker = request.worker  # type: ignore[attr-defined]
    if worker.stage != Worker.Stage.DONE:
        return redirect(stage_url(worker))
    run = worker.run
    completion_url = ""
    if run.completion_mode == run.CompletionMode.PROLIFIC and run.completion_url_template:
        completion_url = run.completion_url_template.replace("{code}", worker.completion_code)
    return render(
        request,
        "crowd/status.html",
        {"worker": worker, "completion_url": completion_url},
    )
