"""Reports kept per run, so that the staff page answers at once however large the run.

A report is computed for one run and one status and stamped with the fingerprint of the set it
covered (analytics.services.fingerprint); the page serves the newest one whose fingerprint is
still the set's, and otherwise the newest one it has while a fresh one is computed.
"""

from __future__ import annotations

from django.db import models

from crowd.models import CollectionRun


class RunReport(models.Model):
    class Status(models.TextChoices):
        APPROVED = "approved", "Approved conversations"
        ALL = "all", "Every ended conversation"

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="reports")
    status = models.CharField(max_length=16, choices=Status.choices)
    fingerprint = models.CharField(max_length=128)
    report = models.JSONField()
    # The figures as SVG documents, by name (analytics.plots.figures).
    figures = models.JSONField(default=dict)
    seconds = models.FloatField(help_text="How long computing it took.")
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["run", "status", "-computed_at"])]

    def __str__(self) -> str:
        return f"report of {self.run.name} ({self.status}) at {self.computed_at:%Y-%m-%d %H:%M}"
