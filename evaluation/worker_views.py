"""The seeker's comparison page, the last step of an evaluation (docs/evaluation.md)."""

from __future__ import annotations

import contextlib

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crowd.decorators import worker_required
from crowd.models import Worker
from crowd.stages import stage_url
from evaluation import flow
from evaluation.forms import ComparisonForm


@worker_required
def compare(request: HttpRequest, worker: Worker) -> HttpResponse:
    try:
        flow.session_to_compare(worker)
    except flow.EvaluationError:
        return redirect(stage_url(worker))
    form = ComparisonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A second submission from another tab: the first one counts.
        with contextlib.suppress(flow.EvaluationError):
            flow.compare(worker, form.cleaned_data)
        worker.refresh_from_db()
        return redirect(stage_url(worker))
    return render(request, "evaluation/compare.html", {"form": form, "worker": worker})
