"""Staff pages of the human evaluation: one evaluation run's results, and their JSON."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from crowd.models import CollectionRun
from evaluation.report import SLOTS, ReportError, evaluation_report, format_p


def _report_of(name: str) -> dict[str, Any]:
    run = get_object_or_404(CollectionRun, name=name)
    try:
        return evaluation_report(run)
    except ReportError as exc:
        raise Http404("this run has no evaluation") from exc


def _share(count: int, total: int) -> float | None:
    return 100 * count / total if total else None


def _question_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    n = report["sessions"]
    return [
        {
            **q,
            "a_share": _share(q["a_wins"], n),
            "b_share": _share(q["b_wins"], n),
            "tie_share": _share(q["ties"], n),
            "p": format_p(q["p_value"]).removesuffix(" *"),
        }
        for q in report["questions"]
    ]


def _backends(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each backend's name, Figure 5 rows (shares in %) and reply counts, A then B."""
    return [
        {
            "slot": slot.upper(),
            "name": report[f"backend_{slot}"],
            "strategies": report["strategies"][slot],
            "progress": [
                {"name": name, "shares": [100 * s for s in shares]}
                for name, shares in report["strategies"][slot]["strategy_by_progress"].items()
            ],
            "replies": report["replies"][slot],
        }
        for slot in SLOTS
    ]


@staff_member_required
def report(request: HttpRequest, name: str) -> HttpResponse:
    result = _report_of(name)
    context = {
        "r": result,
        "questions": _question_rows(result),
        "backends": _backends(result),
    }
    return render(request, "evaluation/report.html", context)


@staff_member_required
def report_json(request: HttpRequest, name: str) -> HttpResponse:
    result = _report_of(name)
    response = HttpResponse(json.dumps(result, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{result["run"]}.json"'
    return response
