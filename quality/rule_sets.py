"""Versioned auto-approval rule sets: the one in force, and saving an edit as a new version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max

from quality.errors import QualityError
from quality.models import AutoApprovalRuleSet

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def current_rule_set() -> AutoApprovalRuleSet:
    """The rule set in force (the highest version); version 1 with the defaults if none."""
    rule_set = AutoApprovalRuleSet.objects.order_by("-version").first()
    if rule_set is not None:
        return rule_set
    try:
        with transaction.atomic():
            return AutoApprovalRuleSet.objects.create(version=1, note="Defaults of the paper")
    except IntegrityError:
        # Another process created version 1 at the same moment.
        return AutoApprovalRuleSet.objects.order_by("-version").first()  # type: ignore[return-value]


def save_rule_set_version(
    rule_set: AutoApprovalRuleSet, *, by: User | None = None
) -> AutoApprovalRuleSet:
    """Save `rule_set` (new or edited) as a new version; earlier versions stay untouched."""
    rule_set.full_clean(exclude=["version"])
    for _ in range(5):
        try:
            with transaction.atomic():
                top = AutoApprovalRuleSet.objects.aggregate(v=Max("version"))["v"] or 0
                rule_set.pk = None
                rule_set.version = top + 1
                rule_set.created_by = by
                rule_set.save(force_insert=True)
                return rule_set
        except IntegrityError:
            continue  # two editors saved at once: take the next number
    raise QualityError("could not allocate a rule-set version; try again")
