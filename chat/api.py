"""JSON endpoints of the chat for the waiting page (session-authenticated, CSRF-checked)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from chat import matching, selectors
from crowd.selectors import current_worker


@require_POST
def match(request: HttpRequest) -> JsonResponse:
    """Try to match the session's worker; say whether to keep waiting or where to go now."""
    worker = current_worker(request)
    if worker is None:
        return JsonResponse(
            {"error": "no_worker", "message": "Open this task from your task link."}, status=403
        )
    if selectors.chat_refused(worker):
        return JsonResponse(
            {"error": "not_allowed", "message": "You cannot enter the chat."}, status=403
        )
    state = matching.poll_waiting_room(worker)
    return JsonResponse(
        {
            "state": state.state,
            "waited_s": state.waited_s,
            "max_wait_s": state.max_wait_s,
            "next_url": state.next_url,
        }
    )
