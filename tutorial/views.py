"""Tutorial pages for supporters (plain form posts, no JavaScript needed) and the staff funnel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from crowd.decorators import worker_required
from crowd.models import Worker
from crowd.stages import stage_url
from tutorial import selectors, services
from tutorial.models import SubTask


def _not_in_training(worker: Worker) -> HttpResponse | None:
    """Anyone but a supporter in the tutorial stage is sent to where they belong."""
    if worker.is_in_training:
        return None
    return redirect(stage_url(worker))


def _unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "tutorial/unavailable.html", status=503)


def _ensure_attempt(request: HttpRequest, worker: Worker) -> HttpResponse | None:
    """Open the first attempt on the first visit; after a failed one, go to the result page."""
    try:
        services.open_first_attempt(worker)
    except services.AttemptClosed:
        return redirect("tutorial:result")
    except services.TutorialUnavailable:
        return _unavailable(request)
    return None


def _open_attempt(request: HttpRequest, worker: Worker) -> HttpResponse | None:
    """The gate of the attempt's pages: a trainee, content loaded, an attempt open."""
    if (response := _not_in_training(worker)) is not None:
        return response
    if not selectors.subtasks():
        return _unavailable(request)
    return _ensure_attempt(request, worker)


def _progress_context(progress: selectors.Progress, current: int | None) -> dict[str, object]:
    percent = round(100 * (current or 0) / progress.total) if progress.total else 0
    return {"progress": progress, "current": current, "percent": percent}


@worker_required
def index(request: HttpRequest, worker: Worker) -> HttpResponse:
    if (response := _open_attempt(request, worker)) is not None:
        return response
    progress = selectors.progress(worker)
    return render(
        request,
        "tutorial/index.html",
        {"intro": selectors.intro(), **_progress_context(progress, None)},
    )


def _parse_option(raw: str | None) -> int | None:
    """A posted option place: a few ASCII digits (str.isdigit also takes "²", which int refuses)."""
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 3:
        return None
    return int(value)


def _answer(request: HttpRequest, worker: Worker, item: SubTask, number: int) -> HttpResponse | str:
    """Grade a posted answer: where to go next, or the error to show beside the question."""
    option = _parse_option(request.POST.get("option"))
    try:
        if option is None:
            raise services.InvalidAnswer("Please choose one of the options before checking.")
        services.answer_question(worker, item, option, item_key=request.POST.get("item"))
    except (services.AlreadyAnswered, services.StaleQuestion) as exc:
        messages.info(request, str(exc))
        return redirect("tutorial:subtask", number=number)
    except services.AttemptClosed:
        return redirect("tutorial:index")
    except services.InvalidAnswer as exc:
        return str(exc)
    return redirect(reverse("tutorial:subtask", args=[number]) + "#result")


@worker_required
@require_http_methods(["GET", "POST"])
def subtask(request: HttpRequest, worker: Worker, number: int) -> HttpResponse:
    if (response := _not_in_training(worker)) is not None:
        return response
    item = selectors.subtask_at(number)
    if item is None:
        if not selectors.subtasks():
            return _unavailable(request)
        raise Http404("No such part of the tutorial.")
    if (response := _ensure_attempt(request, worker)) is not None:
        return response
    error = _answer(request, worker, item, number) if request.method == "POST" else ""
    if isinstance(error, HttpResponse):
        return error
    progress = selectors.progress(worker)
    context = {
        "item": progress.items[number - 1],
        "error": error,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < progress.total else None,
        **_progress_context(progress, number),
    }
    return render(request, "tutorial/subtask.html", context, status=400 if error else 200)


def _submit(request: HttpRequest, worker: Worker) -> HttpResponse | str:
    """Submit the attempt: where to go next, or why it cannot be submitted yet."""
    try:
        result = services.submit_attempt(worker)
    except services.AttemptIncomplete as exc:
        return str(exc)
    except services.AttemptClosed:
        worker.refresh_from_db()
        if worker.stage != Worker.Stage.TUTORIAL:
            return redirect(stage_url(worker))
        return redirect("tutorial:result")
    if result.passed:
        messages.success(
            request,
            "You passed the training. Thank you! You can now chat as a supporter. "
            "While you wait, you can look at the right answers (link below).",
        )
        return redirect(stage_url(worker))
    if result.attempts_left:
        return redirect("tutorial:result")
    # The last attempt is used up: the right answers can be shown now.
    return redirect("tutorial:review")


@worker_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, worker: Worker) -> HttpResponse:
    if (response := _open_attempt(request, worker)) is not None:
        return response
    error = _submit(request, worker) if request.method == "POST" else ""
    if isinstance(error, HttpResponse):
        return error
    progress = selectors.progress(worker)
    context = {**_progress_context(progress, progress.answered), "error": error, "review": True}
    return render(request, "tutorial/submit.html", context, status=400 if error else 200)


@worker_required
def result(request: HttpRequest, worker: Worker) -> HttpResponse:
    """After a failed attempt with attempts left: which parts were not right, and a retry."""
    if (response := _not_in_training(worker)) is not None:
        return response
    progress = selectors.progress(worker)
    if progress.attempt is not None or progress.last_submitted is None:
        return redirect("tutorial:index")
    return render(request, "tutorial/result.html", {"progress": progress})


@worker_required
@require_POST
def retry(request: HttpRequest, worker: Worker) -> HttpResponse:
    if (response := _not_in_training(worker)) is not None:
        return response
    try:
        services.start_next_attempt(worker)
    except services.NoAttemptsLeft as exc:
        messages.error(request, str(exc))
        return redirect("tutorial:result")
    except services.TutorialUnavailable:
        return _unavailable(request)
    return redirect("tutorial:subtask", number=1)


@worker_required
def review(request: HttpRequest, worker: Worker) -> HttpResponse:
    """Every item of the worker's attempts with the right answers, once none can be used."""
    if not selectors.may_review(worker):
        if worker.is_in_training:
            messages.info(request, "The right answers are shown when your training is over.")
            return redirect("tutorial:index")
        return redirect(stage_url(worker))
    context = {
        "attempts": selectors.review(worker),
        "passed": worker.is_qualified,
        "continue_url": stage_url(worker),
    }
    return render(request, "tutorial/review.html", context)


@staff_member_required
def funnel(request: HttpRequest) -> HttpResponse:
    return render(request, "tutorial/funnel.html", {"runs": selectors.funnel()})
