"""Staff sign-in attempts (for lock-outs) and the audit trail of actions that move money or
keep people out (docs/staff-security.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class LoginAttempt(models.Model):
    """One try at the staff sign-in page. The password is never stored, right or wrong."""

    username = models.CharField(max_length=150, db_index=True)  # case-folded as typed
    # As the request gave it (a proxy's header may hold anything): text, not an address type.
    ip = models.CharField(max_length=64, blank=True, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    succeeded = models.BooleanField()
    # A try refused because the name or address was locked out (not counted again).
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username} at {self.at:%Y-%m-%d %H:%M}: {'ok' if self.succeeded else 'no'}"


class AuditEvent(models.Model):
    """Something staff did that pays, rejects, blocks or changes pay: who, what, when."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32)
    run = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.action} by {self.user_id} at {self.at:%Y-%m-%d %H:%M}"


class TOTPDevice(models.Model):
    """A staff member's authenticator app (RFC 6238: 6 digits, 30 seconds, HMAC-SHA1)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    # Base32, as the app is given it. Shown once, when the device is set up.
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step a code was accepted for: a code is good once.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"authenticator of {self.user_id}"
