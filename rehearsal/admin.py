"""Rehearsal tokens in the admin: a record of every rehearsal, never edited by hand."""

from __future__ import annotations

from django.contrib import admin

from crowd.admin import ReadOnlyAdmin
from rehearsal.models import RehearsalToken


@admin.register(RehearsalToken)
class RehearsalTokenAdmin(ReadOnlyAdmin):
    list_display = ("run", "issued_at", "expires_at", "revoked_at", "workers_entered", "issued_by")
    list_filter = ("run",)
    exclude = ("digest",)
