"""Blocking a worker from the lab's later studies (docs/crowd-sites.md, "Blocking").

A block is kept here first: every id the platform knows for the person (their own, and those
of workers who entered from the same browser) is refused at entry from then on, in every
run. It is then applied on the worker's crowd site (a Prolific block-list participant group,
an MTurk worker block); a site that refuses leaves the block in force here, with its error.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from crowd.models import Worker
from crowd.providers.base import ProviderError
from settlement.models import Block, BlockedId
from settlement.services import SITES, SiteFactory, default_site
from staff import audit


class BlockError(ValueError):
    """A block that cannot be made; the message says why."""


def known_ids(worker: Worker) -> set[str]:
    """Every person key the platform knows for this worker's person."""
    keys = {worker.person_key}
    if worker.device_key:
        keys |= set(
            Worker.objects.filter(device_key=worker.device_key).values_list("person_key", flat=True)
        )
    return keys


def is_blocked(person_key: str) -> bool:
    return BlockedId.objects.filter(person_key=person_key, block__lifted_at__isnull=True).exists()


def block(
    worker: Worker, *, reason: str, user: Any = None, sites: SiteFactory = default_site
) -> Block:
    """Block the worker's person here, then on their crowd site."""
    reason = reason.strip()
    if not reason:
        raise BlockError("Say why the worker is blocked: the reason is kept with the block.")
    if Block.objects.filter(worker=worker, lifted_at__isnull=True).exists():
        raise BlockError("This worker is blocked already.")
    with transaction.atomic():
        made = Block.objects.create(
            worker=worker,
            reason=reason,
            created_by=user if getattr(user, "pk", None) else None,
            site_state=Block.SiteState.NONE,
        )
        ids = [BlockedId(block=made, person_key=key) for key in known_ids(worker)]
        BlockedId.objects.bulk_create(ids)
        audit.record("block", user=user, run=worker.run.name, worker=worker.pk, reason=reason)
    if worker.provider in SITES:
        try:
            sites(worker.provider, worker.run).block(worker.external_id, reason=reason)
        except ProviderError as error:
            made.site_state, made.site_error = Block.SiteState.FAILED, str(error)[:500]
        else:
            made.site_state = Block.SiteState.CONFIRMED
        made.save(update_fields=["site_state", "site_error"])
    return made


def lift(made: Block, *, user: Any = None, sites: SiteFactory = default_site) -> None:
    """End the block here and on the site."""
    made.lifted_at = timezone.now()
    made.lifted_by = user if getattr(user, "pk", None) else None
    worker = made.worker
    if made.site_state == Block.SiteState.CONFIRMED:
        try:
            sites(worker.provider, worker.run).unblock(worker.external_id)
        except ProviderError as error:
            made.site_error = f"lifted here; the site refused to unblock: {str(error)[:400]}"
    made.save(update_fields=["lifted_at", "lifted_by", "site_error"])
    audit.record("unblock", user=user, run=worker.run.name, worker=worker.pk)
