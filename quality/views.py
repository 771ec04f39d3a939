"""Quality pages: the reviewers' queue, releases, relabelling and rule calibration (staff), and
the re-labeller's page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.selectors import current_worker, run_named
from quality import calibration as calibration_rules
from quality import corrections, relabelling, review, selectors
from quality.errors import QualityError
from quality.models import RelabelAssignment, Release
from settlement import blocks
from settlement.models import Block

QUEUE_PAGE_SIZE = 50
BLOCK_PERMISSION = "settlement.block_worker"


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
    context = {
        "d": data,
        "c": conversation,
        "may_block": request.user.has_perm(BLOCK_PERMISSION),
        "blocks": _blocks_of(conversation),
    }
    return render(request, "quality/detail.html", context)


def _blocks_of(conversation: Conversation) -> dict[str, Block]:
    """The standing block of each partner, by role."""
    found = Block.objects.filter(
        worker_id__in=[conversation.seeker_id, conversation.supporter_id], lifted_at__isnull=True
    ).select_related("worker")
    return {block.worker.role: block for block in found}


@staff_member_required
@require_POST
def block_worker(request: HttpRequest, pk: int) -> HttpResponse:
    """Block one partner of the conversation from the lab's studies (docs/crowd-sites.md)."""
    if not request.user.has_perm(BLOCK_PERMISSION):
        raise PermissionDenied("Blocking workers needs the permission 'Can block workers'.")
    conversation = get_object_or_404(Conversation, pk=pk)
    role = request.POST.get("role")
    worker = conversation.seeker if role == vocabulary.SEEKER else None
    if role == vocabulary.SUPPORTER:
        worker = conversation.supporter
    if worker is None:
        messages.error(request, "Choose the seeker or the supporter to block.")
        return _back(pk)
    try:
        made = blocks.block(worker, reason=request.POST.get("reason", ""), user=request.user)
    except blocks.BlockError as exc:
        messages.error(request, str(exc))
        return _back(pk)
    if made.site_state == Block.SiteState.FAILED:
        messages.warning(
            request,
            f"The {role} is blocked here; the crowd site refused the block: {made.site_error}",
        )
    else:
        messages.success(request, f"The {role} is blocked from the lab's studies.")
    return _back(pk)


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


# --------------------------------------------------------------------------- calibration

# Rows of the calibration table shown unless all are asked for (the grid has 729).
CALIBRATION_TOP_ROWS = 25


def _run_or_404(name: str) -> CollectionRun:
    run = run_named(name)
    if run is None:
        raise Http404(f"no collection run named {name!r}")
    return run


@staff_member_required
def calibration_index(request: HttpRequest) -> HttpResponse:
    return render(request, "quality/calibration_index.html", {"runs": selectors.calibration_runs()})


@staff_member_required
def calibration(request: HttpRequest, run: str) -> HttpResponse:
    """The calibration table of a run: candidates sorted by mean kappa with the reviewers."""
    table = calibration_rules.calibration_table(_run_or_404(run))
    show_all = request.GET.get("all") == "1"
    rows = table.rows if show_all else table.rows[:CALIBRATION_TOP_ROWS]
    in_force = [r for r in table.rows if r.in_force and r not in rows]
    context = {
        "t": table,
        "rows": [_calibration_row(r, table.reviewers) for r in rows],
        "in_force_row": [_calibration_row(r, table.reviewers) for r in in_force],
        "show_all": show_all,
        "headings": calibration_rules.GRID_HEADINGS,
        "default_size": calibration_rules.DEFAULT_SAMPLE_SIZE,
    }
    return render(request, "quality/calibration.html", context)


def _calibration_row(row: calibration_rules.Row, reviewers: list[str]) -> dict[str, Any]:
    """A table row with its kappas in the reviewers' column order (templates cannot look up)."""
    return {"row": row, "kappas": [row.kappas[name] for name in reviewers]}


@staff_member_required
@require_POST
def calibration_draw(request: HttpRequest, run: str) -> HttpResponse:
    collection_run = _run_or_404(run)
    try:
        size, seed = int(request.POST.get("size", "")), int(request.POST.get("seed", ""))
    except ValueError:
        messages.error(request, "the sample size and the seed must be whole numbers")
        return redirect("quality:calibration", run=run)
    try:
        sample = calibration_rules.draw_sample(
            collection_run,
            size=size,
            seed=seed,
            by=request.user,  # type: ignore[arg-type]
        )
    except QualityError as exc:
        messages.error(request, str(exc))
    else:
        drawn = sample.items.count()
        plural = "" if drawn == 1 else "s"
        messages.success(request, f"Drew {drawn} conversation{plural} (seed {seed}).")
    return redirect("quality:calibration", run=run)


@staff_member_required
@require_POST
def calibration_activate(request: HttpRequest, run: str) -> HttpResponse:
    """Make a row of the table the rule set in force, as a new version."""
    collection_run = _run_or_404(run)
    try:
        thresholds = calibration_rules.parse_thresholds(request.POST)
        rule_set = calibration_rules.activate(
            collection_run,
            thresholds,
            by=request.user,  # type: ignore[arg-type]
        )
    except QualityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Rule set v{rule_set.version} is now in force. Earlier decisions are kept; "
            "run_quality_control --rejudge applies it to them.",
        )
    return redirect("quality:calibration", run=run)


@staff_member_required
def calibration_label(request: HttpRequest, run: str) -> HttpResponse:
    """One sampled conversation at a time, held for this reviewer, with two buttons."""
    collection_run = _run_or_404(run)
    sample = calibration_rules.sample_of(collection_run)
    if sample is None:
        messages.error(request, "draw the calibration sample first")
        return redirect("quality:calibration", run=run)
    reviewer = request.user
    status = 200
    if request.method == "POST":
        try:
            calibration_rules.record_label(
                sample,
                _posted_id(request.POST.get("conversation", "")),
                reviewer,  # type: ignore[arg-type]
                request.POST.get("label", ""),
            )
        except QualityError as exc:
            messages.error(request, str(exc))
            status = 400
        else:
            messages.success(request, "Label saved.")
            return redirect("quality:calibration_label", run=run)
    conversation = calibration_rules.next_to_label(sample, reviewer)  # type: ignore[arg-type]
    context = {
        "run": collection_run,
        "progress": calibration_rules.progress_of(sample, reviewer),  # type: ignore[arg-type]
        "d": selectors.calibration_conversation(conversation) if conversation else None,
    }
    return render(request, "quality/calibration_label.html", context, status=status)


def _posted_id(text: str) -> int:
    """A posted conversation id; anything else names no sampled conversation."""
    if not _row_id(text):
        raise QualityError("this conversation is not in the calibration sample")
    return int(text)
