from __future__ import annotations

from django.apps import AppConfig


class AuthenticityConfig(AppConfig):
    name = "authenticity"
    verbose_name = "Authenticity"
    default_auto_field = "django.db.models.BigAutoField"
