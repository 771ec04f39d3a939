"""Safety alerts that leave the platform: an email to staff and a JSON POST to a webhook.

The live screening (safety.live) calls `alert_staff` once a safety flag has committed. The
staff pages already show the flag; these channels reach people who have no page open. Each
channel stands alone: a mail server that is down must not keep the webhook from firing, and
an alert that cannot be sent must never break the chat that raised it, so `send_alert` logs
and returns instead of raising. With a broker the work goes to a Celery task that retries
(safety.tasks); the embedded default has no worker, so the alert is sent in the caller's
thread (safety.live's alert thread, never the event loop).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.urls import reverse

from crowd import vocabulary
from quality.models import CRISIS_PREFIX, Flag, safety_kinds

logger = logging.getLogger(__name__)

# The staff's safety queue. A literal path: the alert names the page staff act from, and the
# link must not depend on the URL configuration of the process that sends it.
SAFETY_QUEUE_PATH = "/safety/"

EMAIL = "email"
WEBHOOK = "webhook"
CHANNELS: tuple[str, ...] = (EMAIL, WEBHOOK)

SIGNATURE_HEADER = "X-ESC-Signature"


@dataclass(frozen=True)
class SafetyAlert:
    """What staff need to act on one safety flag: what, where, how sure, and where to look.

    Deliberately absent: the message text, worker ids, crowd-site ids and email addresses.
    An alert leaves the platform (a mailbox, a chat tool behind a webhook) where nobody
    controls who reads it or how long it is kept; staff read the message itself behind the
    staff login, through the links.
    """

    flag_id: int
    conversation_id: int
    run: str
    kind: str
    label: str
    crisis: bool
    speaker: str
    position: int | None
    score: float | None
    created_at: str
    live_url: str
    queue_url: str

    def as_json(self) -> dict[str, Any]:
        return {"type": "safety_alert", **asdict(self)}


def absolute_url(path: str) -> str:
    """A link for a reader outside the site: SITE_URL, not the request's host (there is none)."""
    return f"{settings.SITE_URL.rstrip('/')}/{path.lstrip('/')}"


def alert_for_flag(flag_id: int) -> SafetyAlert | None:
    """The alert of a safety flag; None when the flag is gone or is not about safety.

    Only the columns the alert shows are read: the message text is never loaded here.
    """
    row = (
        Flag.objects.filter(pk=flag_id, kind__in=safety_kinds())
        .values_list(
            "conversation_id",
            "conversation__run__name",
            "kind",
            "score",
            "created_at",
            "utterance__position",
            "utterance__speaker",
        )
        .first()
    )
    if row is None:
        return None
    conversation_id, run_name, kind, score, created_at, position, speaker = row
    crisis = kind.startswith(CRISIS_PREFIX)
    return SafetyAlert(
        flag_id=flag_id,
        conversation_id=conversation_id,
        run=run_name,
        kind=kind,
        label=dict(Flag.Kind.choices).get(kind, kind),
        crisis=crisis,
        # A crisis is a seeker's message and misconduct a supporter's; the prefix says so when
        # the flag names no message.
        speaker=speaker or (vocabulary.SEEKER if crisis else vocabulary.SUPPORTER),
        position=position,
        score=score,
        created_at=created_at.isoformat(),
        live_url=absolute_url(reverse("chat:live_detail", args=[conversation_id])),
        queue_url=absolute_url(SAFETY_QUEUE_PATH),
    )


def subject(alert: SafetyAlert) -> str:
    return f"[ESC Platform] Safety alert: {alert.label} in conversation {alert.conversation_id}"


def email_body(alert: SafetyAlert) -> str:
    score = "n/a" if alert.score is None else f"{alert.score:.2f}"
    message = "a message" if alert.position is None else f"message {alert.position}"
    return "\n".join(
        [
            "A safety flag was raised on a conversation of the ESC Platform.",
            "",
            f"What:  {alert.label} ({alert.kind}), detector score {score}",
            f"Where: run {alert.run!r}, conversation {alert.conversation_id}, "
            f"{message} (from the {alert.speaker})",
            f"When:  {alert.created_at}",
            "",
            f"Watch the conversation: {alert.live_url}",
            f"Safety queue:           {alert.queue_url}",
            "",
            "The message and the workers are not named here on purpose: read them through the",
            "links above, behind the staff login.",
            "",
        ]
    )


def webhook_body(alert: SafetyAlert) -> bytes:
    """The exact bytes posted (and signed): sorted keys, so the same alert is the same body."""
    return json.dumps(alert.as_json(), sort_keys=True, separators=(",", ":")).encode()


def signature(body: bytes, secret: str) -> str:
    """The value of X-ESC-Signature: the hex HMAC-SHA256 of the body under the shared secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def configured_channels() -> list[str]:
    """The channels the settings turn on (none on the embedded default)."""
    wanted = []
    if settings.SAFETY_ALERT_EMAILS:
        wanted.append(EMAIL)
    if settings.SAFETY_ALERT_WEBHOOK_URL:
        wanted.append(WEBHOOK)
    return wanted


def _send_email(alert: SafetyAlert) -> None:
    connection = get_connection(timeout=settings.SAFETY_ALERT_TIMEOUT_SECONDS)
    send_mail(
        subject(alert),
        email_body(alert),
        None,
        list(settings.SAFETY_ALERT_EMAILS),
        connection=connection,
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answers itself: a redirect would turn the POST into a GET, or resend the
    signed body to an address nobody configured."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post_webhook(alert: SafetyAlert) -> None:
    url = settings.SAFETY_ALERT_WEBHOOK_URL
    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook URL is not http(s)")
    body = webhook_body(alert)
    headers = {"Content-Type": "application/json", "User-Agent": "ESC-Platform-safety-alerts"}
    if settings.SAFETY_ALERT_WEBHOOK_SECRET:
        headers[SIGNATURE_HEADER] = signature(body, settings.SAFETY_ALERT_WEBHOOK_SECRET)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with _opener.open(request, timeout=settings.SAFETY_ALERT_TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not a 2xx", response.headers, None)


def _failure(exc: BaseException) -> str:
    """How a channel failed, for the log: the exception's class and an HTTP status at most.

    Never its message: an SMTP refusal lists the recipients' addresses, and a webhook URL
    often carries its own secret token.
    """
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    return type(exc).__name__


_SENDERS = {EMAIL: _send_email, WEBHOOK: _post_webhook}


def send_alert(alert: SafetyAlert, channels: Collection[str] | None = None) -> dict[str, bool]:
    """Send the alert on each configured channel (or only those of `channels`); never raises.

    Returns channel → whether it was delivered, for the channels that were tried; an empty
    dict when none is configured.
    """
    results: dict[str, bool] = {}
    for channel in configured_channels():
        if channels is not None and channel not in channels:
            continue
        try:
            _SENDERS[channel](alert)
        except Exception as exc:
            logger.warning(
                "safety alert of flag %s: the %s channel failed (%s)",
                alert.flag_id,
                channel,
                _failure(exc),
            )
            results[channel] = False
        else:
            results[channel] = True
    return results


def deliver(flag_id: int, channels: Collection[str] | None = None) -> dict[str, bool]:
    """Build the flag's alert and send it; {} when the flag is gone or is not about safety."""
    alert = alert_for_flag(flag_id)
    if alert is None:
        logger.info("safety alert of flag %s: no such safety flag, nothing sent", flag_id)
        return {}
    return send_alert(alert, channels)


def alert_staff(flag_id: int) -> None:
    """Tell staff outside the platform about a committed safety flag.

    With a broker the Celery task sends (and retries) it; without one (the embedded default
    runs no worker), or when the broker cannot take the task, it is sent here and now.
    """
    if not configured_channels():
        return
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            from safety.tasks import send_safety_alert

            send_safety_alert.delay(flag_id)
            return
        except Exception as exc:
            logger.warning(
                "safety alert of flag %s could not be queued (%s); sending it from this thread",
                flag_id,
                type(exc).__name__,
            )
    deliver(flag_id)
