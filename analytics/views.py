"""Staff pages of the dataset analytics: the runs, and one run's report with its figures."""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render

from analytics import services
from analytics.models import RunReport
from analytics.plots import figures
from crowd.models import CollectionRun

FIGURE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _status(request: HttpRequest) -> str | None:
    status = request.GET.get("status", RunReport.Status.APPROVED)
    return status if status in RunReport.Status.values else None


def _bad_status() -> HttpResponse:
    return HttpResponseBadRequest(
        "Unknown status: use ?status=approved or ?status=all.", content_type="text/plain"
    )


@staff_member_required
def index(request: HttpRequest) -> HttpResponse:
    runs = CollectionRun.objects.order_by("-is_active", "name")
    return render(request, "analytics/index.html", {"runs": runs})


def _rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    total = sum(counts.values())
    return [
        {"name": name, "count": count, "share": 100 * count / total if total else None}
        for name, count in counts.items()
    ]


def _context(run: CollectionRun, status: str, shown: services.Shown) -> dict[str, Any]:
    context: dict[str, Any] = {
        "run": run,
        "status": status,
        "shown": shown,
        "statuses": RunReport.Status.choices,
    }
    if shown.report is not None:
        report = shown.report.report
        context.update(
            r=report,
            strategies=_rows(report["strategies"]),
            problems=_rows(report["problems"]),
            emotions=_rows(report["emotions"]),
            progress=[
                {"name": name, "shares": [100 * s for s in shares]}
                for name, shares in report["strategy_by_progress"].items()
            ],
            transitions=[
                (
                    hops,
                    [
                        {
                            "sequence": " → ".join(t["sequence"]),
                            "count": t["count"],
                            "share": 100 * t["share"],
                        }
                        for t in top
                    ],
                )
                for hops, top in report["transitions"].items()
            ],
            figure_names=list(shown.report.figures),
        )
    return context


@staff_member_required
def run_report(request: HttpRequest, name: str) -> HttpResponse:
    run = get_object_or_404(CollectionRun, name=name)
    status = _status(request)
    if status is None:
        return _bad_status()
    shown = services.report_to_show(run, status)
    return render(request, "analytics/run.html", _context(run, status, shown))


def _stored(request: HttpRequest, name: str) -> tuple[RunReport, str]:
    run = get_object_or_404(CollectionRun, name=name)
    status = _status(request)
    if status is None:
        raise Http404("unknown status")
    stored = services.latest(run, status)
    if stored is None:
        raise Http404("no report of this run yet")
    return stored, status


@staff_member_required
def report_json(request: HttpRequest, name: str) -> HttpResponse:
    stored, status = _stored(request, name)
    response = HttpResponse(
        json.dumps(stored.report, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="report-{stored.run.pk}-{status}.json"'
    return response


@staff_member_required
def figure(request: HttpRequest, name: str, figure_name: str, fmt: str) -> HttpResponse:
    if fmt not in FIGURE_TYPES:
        raise Http404("figures are svg or png")
    stored, _ = _stored(request, name)
    if figure_name not in stored.figures:
        raise Http404("no such figure")
    if fmt == "svg":
        body: bytes = stored.figures[figure_name].encode()
    else:
        drawn = dict(figures(stored.report))[figure_name]
        buffer = io.BytesIO()
        drawn.savefig(buffer, format="png", bbox_inches="tight")
        body = buffer.getvalue()
    response = HttpResponse(body, content_type=FIGURE_TYPES[fmt])
    if "download" in request.GET:
        response["Content-Disposition"] = f'attachment; filename="{figure_name}.{fmt}"'
    return response
