"""Quality URLs, mounted at /quality/ under the `quality` namespace."""

from __future__ import annotations

from django.urls import path

from quality import views

app_name = "quality"

urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/<int:pk>/", views.detail, name="detail"),
    path("review/<int:pk>/claim/", views.claim, name="claim"),
    path("review/<int:pk>/unclaim/", views.unclaim, name="unclaim"),
    path("review/<int:pk>/decide/", views.decide, name="decide"),
    path("review/<int:pk>/block/", views.block_worker, name="block"),
    path("review/<int:pk>/correct-strategy/", views.correct_strategy, name="correct_strategy"),
    path("review/<int:pk>/correct-intensity/", views.correct_intensity, name="correct_intensity"),
    path("releases/", views.release_list, name="releases"),
    path("releases/<int:number>/download/", views.release_download, name="release_download"),
    path("relabelling/assign/", views.assign, name="assign"),
    path("relabelling/agreement/", views.agreement, name="agreement"),
    path("calibration/", views.calibration_index, name="calibration_index"),
    path("calibration/<slug:run>/", views.calibration, name="calibration"),
    path("calibration/<slug:run>/draw/", views.calibration_draw, name="calibration_draw"),
    path(
        "calibration/<slug:run>/activate/", views.calibration_activate, name="calibration_activate"
    ),
    path("calibration/<slug:run>/label/", views.calibration_label, name="calibration_label"),
    path("relabel/", views.relabel_tasks, name="relabel_tasks"),
    path("relabel/<int:pk>/", views.relabel, name="relabel"),
]
