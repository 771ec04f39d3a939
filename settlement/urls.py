from __future__ import annotations

from django.urls import path

from settlement import webhooks

app_name = "settlement"
urlpatterns = [path("prolific/webhook/", webhooks.prolific, name="prolific_webhook")]
