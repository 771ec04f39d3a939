from __future__ import annotations

from django.urls import path

from staff import views

app_name = "staff"
urlpatterns = [path("two-factor/", views.two_factor, name="two_factor")]
