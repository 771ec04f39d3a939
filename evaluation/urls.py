"""Evaluation URLs, mounted at /evaluation/ under the `evaluation` namespace (staff only)."""

from __future__ import annotations

from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("<str:name>/", views.report, name="report"),
    path("<str:name>/report.json", views.report_json, name="report_json"),
]
