from __future__ import annotations

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Human evaluation"
    default_auto_field = "django.db.models.BigAutoField"
