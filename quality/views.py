"""Quality pages: the reviewers' queue, releases, relabelling (staff) and the re-labeller's page."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chat.models import Conversation, Utterance
from crowd.models import Worker
from crowd.selectors import current_worker
from quality import corrections, relabelling, review, selectors
from quality.errors import QualityError
from quality.models import RelabelAssignment, Release

QUEUE_PAGE_SIZE = 50


@staff_member_required
def queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.review_queue_conversations(), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = selectors.queue_rows(list(page.object_list))
    return render(request, "quality/queue.html", {"page": page, "rows": rows})


@staff_member_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    data = selectors.review_detail(conversation, request.user)
    return render(request, "quality/detail.html", {"d": data, "c": conversation})


def _back(pk: int) -> HttpResponse:
    return redirect("quality:detail", pk=pk)


@staff_member_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    try:
        review.claim_for_review(conversation, request.user)  # type: ignore[arg-type]
    except QualityError as exc:
        messages.error(request, str(exc))
    return _back(pk)


@staff_member_required
@require_POST
def unclaim(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    review.release_review_claim(conversation, request.user)  # type: ignore[arg-type]
    return redirect("quality:queue")


@staff_member_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    try:
        decision = review.decide_review(
            conversation,
            request.user,  # type: ignore[arg-type]
            request.POST.get("verdict", ""),
            request.POST.get("reason", ""),
        )
    except QualityError as exc:
        messages.error(request, str(exc))
        return _back(pk)
    messages.success(request, f"Conversation #{pk} {decision.verdict}.")
    return redirect("quality:queue")


@staff_member_required
@require_POST
def correct_strategy(request: HttpRequest, pk: int) -> HttpResponse:
    utterance = get_object_or_404(
        Utterance.objects.select_related("conversation"),
        pk=request.POST.get("utterance") or 0,
        conversation_id=pk,
    )
    try:
        corrections.correct_strategy(
            utterance,
            request.user,  # type: ignore[arg-type]
            request.POST.get("strategy", ""),
            request.POST.get("reason", ""),
        )
    except QualityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Strategy of message {utterance.position} corrected.")
    return _back(pk)


@staff_member_required
@require_POST
def correct_intensity(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    try:
        value = int(request.POST.get("value", ""))
    except ValueError:
        messages.error(request, "emotion intensity must be a whole number from 1 to 5")
        return _back(pk)
    try:
        corrections.correct_initial_intensity(
            conversation,
            request.user,  # type: ignore[arg-type]
            value,
            request.POST.get("reason", ""),
        )
    except QualityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Initial emotion intensity corrected.")
    return _back(pk)


@staff_member_required
def release_list(request: HttpRequest) -> HttpResponse:
    return render(request, "quality/releases.html", {"releases": selectors.releases()})


@staff_member_required
def release_download(request: HttpRequest, number: int) -> FileResponse:
    release = get_object_or_404(Release, number=number)
    path = Path(release.path)
    # Serve only files inside the export folder, whatever the row says.
    root = Path(settings.ESCONV_EXPORT_DIR).resolve()
    if not path.resolve().is_relative_to(root) or not path.is_file():
        raise Http404("the release file is missing")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@staff_member_required
def agreement(request: HttpRequest) -> HttpResponse:
    return render(request, "quality/agreement.html", {"a": selectors.relabel_agreement()})


@staff_member_required
def assign(request: HttpRequest) -> HttpResponse:
    """Assign approved conversations to qualified supporters for re-labelling."""
    if request.method == "POST":
        _assign_posted(request)
        return redirect("quality:assign")
    return render(request, "quality/assign.html", selectors.assignable())


def _assign_posted(request: HttpRequest) -> None:
    try:
        conv_ids = [int(x) for x in request.POST.getlist("conversations")]
        worker_ids = [int(x) for x in request.POST.getlist("workers")]
    except ValueError:
        messages.error(request, "choose conversations and workers from the lists")
        return
    if not conv_ids or not worker_ids:
        messages.error(request, "choose at least one conversation and one supporter")
        return
    try:
        created = relabelling.assign_relabelling(
            Conversation.objects.filter(pk__in=conv_ids),
            Worker.objects.filter(pk__in=worker_ids),
            by=request.user,  # type: ignore[arg-type]
        )
    except QualityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{created} re-labelling assignments created.")


# --------------------------------------------------------------------------- re-labellers


def _relabeller(request: HttpRequest) -> Worker | None:
    worker = current_worker(request)
    if worker is None or not worker.is_qualified_supporter:
        return None
    return worker


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, "quality/relabel_refused.html", status=403)


def _row_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def _chosen_labels(request: HttpRequest) -> dict[int, str]:
    """The posted labels: field "u-<utterance id>" -> strategy name, empty ones left out.

    Only ids of ASCII digits a row id can have count ("u-²" is no field of the form).
    """
    chosen: dict[int, str] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        number = key[2:]
        if key.startswith("u-") and _row_id(number) and value:
            chosen[int(number)] = value
    return chosen


def relabel_tasks(request: HttpRequest) -> HttpResponse:
    worker = _relabeller(request)
    if worker is None:
        return _refused(request)
    return render(
        request, "quality/relabel_tasks.html", {"assignments": selectors.open_assignments(worker)}
    )


def relabel(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _relabeller(request)
    if worker is None:
        return _refused(request)
    assignment = get_object_or_404(RelabelAssignment, pk=pk, worker=worker)
    chosen: dict[int, str] = {}
    status = 200
    if request.method == "POST" and assignment.completed_at is not None:
        status = 409  # submitted already: the page says so
    elif request.method == "POST":
        chosen = _chosen_labels(request)
        try:
            relabelling.submit_relabels(assignment, worker, chosen)
        except QualityError as exc:
            messages.error(request, str(exc))
            status = 400
        else:
            messages.success(request, "Thank you — your labels are saved.")
            return redirect("quality:relabel_tasks")
    context = {
        "assignment": assignment,
        "items": selectors.relabel_items(assignment, chosen),
        "strategies": selectors.strategy_help(),
    }
    return render(request, "quality/relabel.html", context, status=status)
