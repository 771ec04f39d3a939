"""Re-inviting qualified supporters (docs/crowd-sites.md, "Re-inviting supporters"): each is
put on the lab's allow-list on their crowd site (a Prolific participant group, an MTurk
qualification), so that a later study, filtered on it, invites only them; a run that takes
earlier training (`accept_earlier_training`) then lets them skip it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.providers.base import ProviderError
from settlement.models import BlockedId
from settlement.services import SITES, SiteFactory, default_site
from staff import audit


@dataclass
class Invited:
    counts: Counter[str] = field(default_factory=Counter)
    rows: list[dict[str, Any]] = field(default_factory=list)


def qualified_supporters(run: CollectionRun) -> list[Worker]:
    """The run's supporters who passed the training, still have an id, and are not blocked."""
    blocked = BlockedId.objects.filter(block__lifted_at__isnull=True).values("person_key")
    return list(
        Worker.objects.filter(
            run=run,
            role=vocabulary.SUPPORTER,
            qualification=Worker.Qualification.QUALIFIED,
            data_deleted_at__isnull=True,
        )
        .exclude(person_key__in=blocked)
        .order_by("pk")
    )


def invite(
    run: CollectionRun,
    groups: dict[str, str],
    *,
    dry_run: bool = False,
    user: Any = None,
    sites: SiteFactory = default_site,
) -> Invited:
    """Put each qualified supporter on `groups[their site]` (a group or qualification id)."""
    out = Invited()
    clients: dict[str, Any] = {}
    for worker in qualified_supporters(run):
        group = groups.get(worker.provider, "")
        if worker.provider not in SITES or not group:
            why = "no allow-list given for their site" if worker.provider in SITES else "no site"
            out.rows.append({"worker": worker.pk, "provider": worker.provider, "state": why})
            out.counts["skipped"] += 1
            continue
        state = "would allow"
        if not dry_run:
            if worker.provider not in clients:
                clients[worker.provider] = sites(worker.provider, run)
            try:
                clients[worker.provider].allow(worker.external_id, group=group)
                state = "allowed"
            except ProviderError as error:
                state = f"failed: {str(error)[:300]}"
        out.rows.append({"worker": worker.pk, "provider": worker.provider, "state": state})
        out.counts[state.split(":")[0]] += 1
    if not dry_run:
        audit.record("allow_list", user=user, run=run.name, groups=groups, counts=dict(out.counts))
    return out
