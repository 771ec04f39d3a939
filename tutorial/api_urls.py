from __future__ import annotations

from django.urls import path

from tutorial import api

app_name = "tutorial-api"

urlpatterns = [
    path("", api.TutorialView.as_view(), name="list"),
    path("<int:number>/answer/", api.AnswerView.as_view(), name="answer"),
    path("review/", api.ReviewView.as_view(), name="review"),
]
