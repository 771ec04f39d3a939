from __future__ import annotations

from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("pre-chat/", views.pre_chat, name="pre_chat"),
    path("post-chat/", views.post_chat, name="post_chat"),
]
