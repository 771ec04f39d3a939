"""Read-only pages of the sign-in attempts and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crowd.admin import ReadOnlyAdmin
from staff.models import AuditEvent, LoginAttempt, TOTPDevice


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "run", "user", "detail")
    list_filter = ("action",)
    search_fields = ("run",)


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "ip", "succeeded", "locked")
    list_filter = ("succeeded", "locked")
    search_fields = ("username",)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    """Who has set up an authenticator; a superuser deletes one so its owner sets it up again.
    The key itself is never shown here."""

    list_display = ("user", "confirmed_at")
    fields = ("user", "confirmed_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(getattr(request.user, "is_superuser", False))
