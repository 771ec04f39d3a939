from __future__ import annotations

from django.urls import path, register_converter

from tutorial import views

app_name = "tutorial"

# Part numbers are small: a longer number is no part (404), never a query the database refuses.
MAX_PART_NUMBER = 9999


class PartNumberConverter:
    regex = "[0-9]{1,4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(PartNumberConverter, "part")

urlpatterns = [
    path("", views.index, name="index"),
    path("<part:number>/", views.subtask, name="subtask"),
    path("submit/", views.submit, name="submit"),
    path("result/", views.result, name="result"),
    path("retry/", views.retry, name="retry"),
    path("review/", views.review, name="review"),
    path("funnel/", views.funnel, name="funnel"),
]
