from __future__ import annotations

from django.urls import path

from evaluation import worker_views

app_name = "evaluate"

urlpatterns = [
    path("compare/", worker_views.compare, name="compare"),
]
