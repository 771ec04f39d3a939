"""Staff sign-in locked out after repeated failures (docs/staff-security.md).

A name that failed MAX_FAILURES times within WINDOW, with no success since, is refused even
with the right password until WINDOW has passed since its last failure; so is a network
address with MAX_ADDRESS_FAILURES failures across names (one guesser trying many accounts).
Attempts are rows (staff.models.LoginAttempt): every process of the platform sees them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db.models import Max
from django.utils import timezone

from esc_platform.ratelimits import client_ip
from staff import second_factor
from staff.models import LoginAttempt

MAX_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
WINDOW = timedelta(minutes=15)


def _name(username: str) -> str:
    return username.strip().casefold()[:150]


def locked_until(username: str, ip: str) -> Any:
    """When the name (or the address) may try again, or None when it may now."""
    now = timezone.now()
    since = now - WINDOW
    recent = LoginAttempt.objects.filter(at__gte=since, locked=False)
    name = _name(username)
    last_success = recent.filter(username=name, succeeded=True).aggregate(Max("at"))["at__max"]
    failures = recent.filter(username=name, succeeded=False)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    until = None
    if failures.count() >= MAX_FAILURES:
        until = failures.aggregate(Max("at"))["at__max"] + WINDOW
    if ip:
        by_address = recent.filter(ip=ip, succeeded=False)
        if by_address.count() >= MAX_ADDRESS_FAILURES:
            address_until = by_address.aggregate(Max("at"))["at__max"] + WINDOW
            until = max(until, address_until) if until else address_until
    return until


class LockingAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form, refusing a locked-out name or address before checking the
    password, asking staff who may pay for their authenticator's code, and recording every
    try (a wrong code counts as a failure)."""

    code = forms.CharField(
        required=False,
        max_length=12,
        label="Authenticator code",
        help_text="Staff who may pay workers: the 6-digit code from your authenticator app.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = (client_ip(self.request) if self.request is not None else "")[:64]
        until = locked_until(username, ip)
        if until is not None:
            LoginAttempt.objects.create(
                username=_name(username), ip=ip, succeeded=False, locked=True
            )
            minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
            raise forms.ValidationError(
                "Too many failed sign-ins. Try again in about %(minutes)s minutes, or ask an "
                "administrator.",
                code="locked_out",
                params={"minutes": minutes},
            )
        try:
            data = super().clean()
        except forms.ValidationError:
            LoginAttempt.objects.create(username=_name(username), ip=ip, succeeded=False)
            raise
        user = self.get_user()
        if second_factor.needs_code(user):
            if not second_factor.check_code(user, self.cleaned_data.get("code") or ""):
                LoginAttempt.objects.create(username=_name(username), ip=ip, succeeded=False)
                raise forms.ValidationError(
                    "Enter the current 6-digit code from your authenticator app.",
                    code="second_factor",
                )
            if self.request is not None:
                second_factor.mark_verified(self.request)
        LoginAttempt.objects.create(username=_name(username), ip=ip, succeeded=True)
        return data
