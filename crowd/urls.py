from __future__ import annotations

from django.urls import path

from crowd import views

app_name = "crowd"

urlpatterns = [
    path("start/", views.start, name="start"),
    path("consent/", views.consent, name="consent"),
    path("next/", views.next_step, name="next"),
    path("done/", views.status, name="status"),
    path("runs/<slug:name>/dashboard/", views.run_dashboard, name="run_dashboard"),
]
