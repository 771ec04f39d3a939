"""Prolific's webhook (docs/crowd-sites.md, "Returned and timed-out submissions"): verified by
its signature, kept once by its event id, answered at once and processed as a task."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from settlement.models import SiteEvent

# A call signed longer ago than this is refused: a recorded call replayed later is not news.
MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
STATUS_CHANGE = "submission.status.change"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Prolific's signature: base64 of HMAC-SHA256 over the timestamp and the body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _refuse(status: int, error: str) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


@csrf_exempt
@require_POST
def prolific(request: HttpRequest) -> JsonResponse:
    secret = settings.PROLIFIC_WEBHOOK_SECRET
    if not secret:
        return _refuse(404, "webhooks are not set up here")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, "too large")
    stamp = request.headers.get("X-Prolific-Request-Timestamp", "")
    given = request.headers.get("X-Prolific-Request-Signature", "")
    if not given or not hmac.compare_digest(signature(secret, stamp, body), given):
        return _refuse(403, "bad signature")
    try:
        fresh = abs(time.time() - float(stamp)) <= MAX_AGE_SECONDS
    except ValueError:
        fresh = False
    if not fresh:
        return _refuse(403, "stale or missing timestamp")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _refuse(400, "not JSON")
    if not isinstance(payload, dict):
        return _refuse(400, "not a JSON object")
    event_id = request.headers.get("X-Event-ID") or hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            event = SiteEvent.objects.create(
                provider="prolific", event_id=event_id[:128], payload=payload
            )
    except IntegrityError:
        return JsonResponse({"ok": True, "duplicate": True})
    from settlement.tasks import process_site_event

    transaction.on_commit(lambda: process_site_event.delay(event.pk))
    return JsonResponse({"ok": True, "duplicate": False})
