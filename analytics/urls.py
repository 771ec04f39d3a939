"""Analytics URLs, mounted at /analytics/ under the `analytics` namespace (staff only)."""

from __future__ import annotations

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<str:name>/", views.run_report, name="run"),
    path("runs/<str:name>/report.json", views.report_json, name="json"),
    path("runs/<str:name>/figures/<str:figure_name>.<str:fmt>", views.figure, name="figure"),
]
