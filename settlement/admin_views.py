"""Settling a run from the admin: a preview of who gets what, then a confirmation
(docs/crowd-sites.md, "Settlement"). Only staff with the permission to settle, in a session
that has shown an authenticator code, may confirm."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from crowd.models import CollectionRun
from settlement.services import SettlementError, settle
from staff import second_factor


def settle_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(CollectionRun, pk=pk)
    if not request.user.has_perm(second_factor.PAY_PERMISSION):
        raise PermissionDenied(
            "Settling a run pays workers: it needs the permission 'Can settle runs', which an "
            "administrator gives."
        )
    if not second_factor.verified(request):
        setup = reverse("staff:two_factor") + "?next=" + request.path
        messages.warning(request, "Paying workers needs your authenticator's code first.")
        return redirect(setup)
    try:
        if request.method == "POST":
            report = settle(run, user=request.user, source="admin")
            messages.success(request, f"Settled run {run.name}.")
        else:
            report = settle(run, dry_run=True)
    except SettlementError as error:
        messages.error(request, str(error))
        return redirect(reverse("admin:crowd_collectionrun_change", args=[run.pk]))
    context = {
        "title": f"Settle run {run.name}",
        "run": run,
        "report": report,
        "opts": CollectionRun._meta,
        "counts": sorted(report.counts.items()),
    }
    return render(request, "settlement/settle.html", context)
