"""Rehearsal tokens: the one way a worker becomes simulated (docs/rehearsal.md).

`simulate_run` issues a token for a run from beside the server's database, as staff would.
Only its SHA-256 is kept; the secret travels in the simulated workers' entry links
(`rehearsal=`), and a worker created through a link with a live token of its run is marked
`Worker.simulated`. Nothing else a browser can send marks a worker simulated.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from crowd.models import CollectionRun


class RehearsalToken(models.Model):
    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="rehearsals")
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the secret, hex
    issued_by = models.CharField(max_length=150)  # the command and the account that ran it
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    workers_entered = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"rehearsal of {self.run.name} issued {self.issued_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
