from __future__ import annotations

from django.urls import path

from tutorial import views

app_name = "tutorial"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:number>/", views.subtask, name="subtask"),
    path("submit/", views.submit, name="submit"),
    path("result/", views.result, name="result"),
    path("retry/", views.retry, name="retry"),
    path("funnel/", views.funnel, name="funnel"),
]
