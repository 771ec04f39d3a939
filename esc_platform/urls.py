"""Top-level URLs. Each app owns its own `urls.py`, included here under a namespace."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from crowd import views as crowd_views
from esc_platform import readiness

# The admin carries the product's name (page titles, the header, the index's heading).
admin.site.site_header = "ESC Platform"
admin.site.site_title = "ESC Platform"
admin.site.index_title = "ESC Platform"

urlpatterns = [
    path("", crowd_views.landing, name="landing"),
    path("healthz", crowd_views.healthz, name="healthz"),
    path("readyz", readiness.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include("crowd.urls")),
    path("tutorial/", include("tutorial.urls")),
    path("surveys/", include("surveys.urls")),
    path("chat/", include("chat.urls")),
    path("quality/", include("quality.urls")),
    path("analytics/", include("analytics.urls")),
    path("safety/", include("safety.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("evaluate/", include("evaluation.worker_urls")),
    path("api/", include("esc_platform.api_urls")),
    path("staff/", include("staff.urls")),
    path("crowd-sites/", include("settlement.urls")),
]
