"""The staff's safety pages (docs/safety.md, "For staff")."""

from __future__ import annotations

from django.urls import path

from safety import views

app_name = "safety"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:flag_id>/resolve/", views.resolve, name="resolve"),
]
