"""Setting up and showing the second factor (docs/staff-security.md)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from staff import second_factor, totp
from staff.models import TOTPDevice


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if target and allowed else ""


@staff_member_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (its key shown until a first code confirms it), or show a
    code to let this session pay."""
    user = request.user
    assert isinstance(user, User)  # staff_member_required let only staff in
    device, _ = TOTPDevice.objects.get_or_create(user=user, defaults={"secret": totp.new_secret()})
    error = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        if device.confirmed_at is None:
            step = totp.matching_step(device.secret, code, after=0)
            if step is not None:
                device.confirmed_at, device.last_step = timezone.now(), step
                device.save(update_fields=["confirmed_at", "last_step"])
        elif not second_factor.check_code(user, code):
            step = None
        else:
            step = 0
        if step is not None:
            second_factor.mark_verified(request)
            return redirect(_next(request) or "staff:two_factor")
        error = "That code is not right (or was used already). Enter the current one."
    context = {
        "title": "Authenticator app",
        "device": device,
        "uri": totp.provisioning_uri(device.secret, user.get_username())
        if device.confirmed_at is None
        else "",
        "verified": second_factor.verified(request),
        "may_pay": user.has_perm(second_factor.PAY_PERMISSION),
        "next": _next(request),
        "error": error,
    }
    return render(request, "staff/two_factor.html", context)
