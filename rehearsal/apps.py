from __future__ import annotations

from django.apps import AppConfig


class RehearsalConfig(AppConfig):
    name = "rehearsal"
    verbose_name = "Rehearsals (simulated workers)"
    default_auto_field = "django.db.models.BigAutoField"
