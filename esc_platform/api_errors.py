"""JSON answers for /api/ paths that no API view handles.

DRF answers its own errors in JSON, but a path under /api/ that matches no route reaches
Django's HTML 404 page, which an API client cannot read. The last route of
esc_platform/api_urls.py sends every such path here.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def not_found(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    """404 in the shape DRF uses for its own errors ({"detail": ...})."""
    return JsonResponse({"detail": "There is no such API endpoint."}, status=404)
