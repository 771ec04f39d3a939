"""The project's URLs with the evaluation's mounted at /evaluation/, as esc_platform.urls will.

Until esc_platform/urls.py includes evaluation.urls itself; once it does, it is not added twice.
"""

from __future__ import annotations

from django.urls import include, path

from esc_platform.urls import urlpatterns as project_urlpatterns

_mounted = any(getattr(p, "namespace", None) == "evaluation" for p in project_urlpatterns)

urlpatterns = [*project_urlpatterns]
if not _mounted:
    urlpatterns.append(path("evaluation/", include("evaluation.urls")))
