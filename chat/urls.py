from __future__ import annotations

from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("waiting/", views.waiting, name="waiting"),
    path("room/", views.room, name="room"),
    path("live/", views.live, name="live"),
    path("live/<int:conversation_id>/", views.live_detail, name="live_detail"),
    path("live/feed/", views.live_feed, name="live_feed"),
    path("live/<int:conversation_id>/signals/", views.live_signals, name="live_signals"),
]
