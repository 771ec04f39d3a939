"""The ledger: every approval, rejection and bonus a settlement asks a crowd site for.

A row is written before the site is called and moves planned → sent → confirmed (or failed);
its `key` is unique, one per worker and kind, so however often a run is settled, by however
many staff at once, each worker is approved once and paid each bonus once
(docs/crowd-sites.md, "Never paying twice").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crowd.models import CollectionRun, Worker


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        APPROVE = "approve", "Approve the submission"
        REJECT = "reject", "Reject the submission"
        BONUS = "bonus", "Pay a bonus"

    class State(models.TextChoices):
        PLANNED = "planned", "Planned, not sent"
        SENT = "sent", "Sent; the site's answer not yet recorded"
        CONFIRMED = "confirmed", "Confirmed by the site"
        FAILED = "failed", "Refused by the site"

    run = models.ForeignKey(CollectionRun, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # One per worker and kind, for ever: the idempotency key (MTurk's UniqueRequestToken).
    key = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    # The site's id of the payment (Prolific's bulk bonus payment), recorded before paying it.
    external_id = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When it was last sent: a sent row older than the lease was left by a process that died.
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The site's words when it refused, never a credential.
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["run", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="bonus", amount__gt=0)
                | (~models.Q(kind="bonus") & models.Q(amount__isnull=True)),
                name="ledger_bonus_has_amount",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of worker {self.worker_id}: {self.state}"


class Settlement(models.Model):
    """One settlement of a run, who asked for it and what it did: the audit trail."""

    run = models.ForeignKey(CollectionRun, on_delete=models.PROTECT, related_name="settlements")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "command" or "admin"
    source = models.CharField(max_length=16)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
        permissions = [
            ("settle_run", "Can settle runs: approve, reject and pay workers on the crowd sites")
        ]

    def __str__(self) -> str:
        return f"settlement of {self.run} at {self.started_at:%Y-%m-%d %H:%M}"


class Block(models.Model):
    """A person kept out of the lab's studies: refused at entry here, and blocked on the site."""

    class SiteState(models.TextChoices):
        NONE = "none", "Not on a crowd site the platform reaches"
        CONFIRMED = "confirmed", "Applied on the site"
        FAILED = "failed", "The site refused it (see the error)"

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="blocks")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    site_state = models.CharField(max_length=10, choices=SiteState.choices)
    site_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("block_worker", "Can block workers from the lab's studies")]

    def __str__(self) -> str:
        return f"block of worker {self.worker_id}"


class BlockedId(models.Model):
    """One id the platform knows for a blocked person (Worker.person_key): the worker's own,
    and those of every worker who entered from the same browser."""

    block = models.ForeignKey(Block, on_delete=models.CASCADE, related_name="ids")
    person_key = models.CharField(max_length=128, db_index=True)

    def __str__(self) -> str:
        return f"blocked id of block {self.block_id}"


class SiteEvent(models.Model):
    """A crowd site's webhook call, kept once by its event id (a site may deliver it twice)."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=128)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="one_site_event_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.provider} event {self.event_id}"
