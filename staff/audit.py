"""The audit trail (docs/staff-security.md): settlements, blocks and changes of a run's pay."""

from __future__ import annotations

from typing import Any

from staff.models import AuditEvent

# The run settings that decide what workers are paid.
PAY_FIELDS = ("base_pay", "bonus", "currency", "settlement_policy")


def record(action: str, *, user: Any = None, run: str = "", **detail: Any) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        user=user if getattr(user, "pk", None) else None,
        run=run,
        detail=detail,
    )


def pay_values(run: Any) -> dict[str, str]:
    return {name: str(getattr(run, name)) for name in PAY_FIELDS}


def record_pay_change(before: dict[str, str], run: Any, *, user: Any, via: str) -> None:
    """An audit event when the run's pay settings differ from `before` (a new run too)."""
    after = pay_values(run)
    changed = {
        name: [before.get(name), after[name]]
        for name in PAY_FIELDS
        if before.get(name) != after[name]
    }
    if changed:
        record("pay_change", user=user, run=run.name, via=via, changed=changed)
