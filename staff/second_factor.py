"""The second factor of staff who may move money (docs/staff-security.md).

Staff with the permission to settle sign in with a code from their authenticator app as well
as their password once they have set one up; a session that has not shown a code (signed in
before the app was set up, or by someone without it) may look but not pay: every pay action
asks `verified(request)` first.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from staff import totp
from staff.models import TOTPDevice

PAY_PERMISSION = "settlement.settle_run"
SESSION_KEY = "staff_second_factor_at"


def needs_code(user: Any) -> bool:
    """Whether this user signs in with a code: they may pay and have an app set up."""
    return bool(
        user.has_perm(PAY_PERMISSION)
        and TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
    )


def check_code(user: Any, code: str) -> bool:
    """Whether `code` is the user's next good code; it is then used up."""
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return False
    step = totp.matching_step(device.secret, code, after=device.last_step)
    if step is None:
        return False
    # Used up even if two requests race: only one UPDATE sees the old step.
    return bool(TOTPDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step))


def mark_verified(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = timezone.now().isoformat()


def verified(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_KEY))
