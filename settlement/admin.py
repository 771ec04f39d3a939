"""The ledger, the settlements and the blocks in the admin: read-only but for lifting a block."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from crowd.admin import ReadOnlyAdmin
from settlement import blocks
from settlement.models import Block, LedgerEntry, Settlement, SiteEvent


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "provider", "amount", "currency", "state", "attempts", "error")
    list_filter = ("state", "kind", "provider", "run")
    search_fields = ("key",)


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("run", "started_at", "finished_at", "started_by", "source")
    list_filter = ("run",)


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ("worker", "reason", "created_at", "created_by", "site_state", "lifted_at")
    list_filter = ("site_state",)
    actions = ["lift_blocks"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Lifting is the only change, and it needs the permission to block.
        return request.user.has_perm("settlement.block_worker")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in Block._meta.fields]

    @admin.action(description="Lift the selected blocks (here and on the crowd site)")
    def lift_blocks(self, request: HttpRequest, queryset: QuerySet[Block]) -> None:
        lifted = 0
        for made in queryset.filter(lifted_at__isnull=True).select_related("worker__run"):
            blocks.lift(made, user=request.user)
            lifted += 1
        messages.success(request, f"Lifted {lifted} block(s).")


@admin.register(SiteEvent)
class SiteEventAdmin(ReadOnlyAdmin):
    list_display = ("provider", "event_id", "received_at", "processed_at", "result")
    list_filter = ("provider", "result")
