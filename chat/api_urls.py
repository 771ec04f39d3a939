from __future__ import annotations

from django.urls import path

from chat import api

urlpatterns = [
    path("match/", api.match, name="chat-api-match"),
]
