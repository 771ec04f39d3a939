from __future__ import annotations

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety"
    default_auto_field = "django.db.models.BigAutoField"
