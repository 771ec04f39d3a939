"""The staff's safety page: open alerts as they come, resolving one with a note, and history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from safety import review


@staff_member_required
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "safety/queue.html",
        {
            "alerts": review.open_alerts(),
            "open_count": review.open_alert_count(),
            "resolved": review.resolved_alerts(),
            "note_min": review.NOTE_MIN_CHARS,
            "note_max": review.NOTE_MAX_CHARS,
        },
    )


@staff_member_required
@require_POST
def resolve(request: HttpRequest, flag_id: int) -> HttpResponse:
    try:
        review.resolve_flag(flag_id, request.user, request.POST.get("note", ""))  # type: ignore[arg-type]
    except review.SafetyError as exc:
        messages.error(request, f"Flag {flag_id} was not resolved: {exc}")
    else:
        messages.success(request, f"Flag {flag_id} is resolved; the note is kept with it.")
    return redirect("safety:queue")
