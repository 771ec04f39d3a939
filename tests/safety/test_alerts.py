"""Safety alerts that leave the platform: an email through a real local SMTP server (aiosmtpd)
and a JSON POST to a local webhook (pytest-httpserver), each channel on its own, with nothing
personal in either."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import override_settings
from pytest_httpserver import HTTPServer

from crowd import vocabulary
from crowd.models import Worker
from quality.models import Flag
from safety import alerts
from safety.tasks import send_safety_alert
from tests.cast import Actor
from tests.chat.factories import Pair, make_pair, say

# Words nobody else uses: if any of them reaches a mailbox or a webhook, the alert leaked.
SECRET_TEXT = "my cobalt lighthouse keeper Quimby whispered 7319 marmalade sorrows"
SEEKER = Actor("zq-seeker-58213", vocabulary.SEEKER, "a seeker whose crowd id must not leak")
SUPPORTER = Actor("zq-supporter-90417", vocabulary.SUPPORTER, "a supporter, same")
STAFF_INBOX = "safety-team@example.org"
SITE = "https://esc.example.org"
HOOK_PATH = "/hooks/T0KEN-do-not-log"
SECRET = "shared-webhook-secret"

pytestmark = pytest.mark.django_db


@dataclass
class Inbox:
    """What the local SMTP server received: one entry per accepted message."""

    port: int
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        self.arrived.set()
        return "250 Message accepted for delivery"

    def only(self) -> tuple[str, list[str], EmailMessage]:
        assert len(self.received) == 1, f"{len(self.received)} messages arrived"
        return self.received[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def channel_settings(inbox_port: int, webhook_url: str, **more: Any) -> override_settings:
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=inbox_port,
        EMAIL_HOST_USER="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        SAFETY_ALERT_EMAILS=[STAFF_INBOX],
        SAFETY_ALERT_WEBHOOK_URL=webhook_url,
        SAFETY_ALERT_WEBHOOK_SECRET=more.pop("secret", ""),
        SAFETY_ALERT_TIMEOUT_SECONDS=5,
        SITE_URL=SITE,
        **more,
    )


@pytest.fixture
def channels(inbox: Inbox, httpserver: HTTPServer) -> Iterator[None]:
    with channel_settings(inbox.port, httpserver.url_for(HOOK_PATH)):
        yield


def crisis_flag() -> tuple[Pair, Flag]:
    """A conversation whose seeker wrote SECRET_TEXT, flagged as a crisis through the ORM (as
    the live screening stores it, the phrase in the detail)."""
    pair = make_pair(seeker=SEEKER, supporter=SUPPORTER)
    say(pair, pair.supporter, "hello, how are you today?")
    say(pair, pair.seeker, SECRET_TEXT)
    utterance = pair.conversation.utterances.get(text=SECRET_TEXT)
    flag = Flag.objects.create(
        conversation=pair.conversation,
        utterance=utterance,
        kind="crisis_suicide_self_harm",
        score=0.93,
        detail=f"self-harm wording: “{SECRET_TEXT}”",
    )
    return pair, flag


def personal_strings(pair: Pair) -> list[str]:
    """What must never leave: the message, and every id the crowd site gave the workers."""
    found = [SECRET_TEXT, "Quimby", "marmalade"]
    for worker in Worker.objects.filter(pk__in=[pair.seeker.pk, pair.supporter.pk]):
        found += [worker.external_id, worker.person_key]
        found += [v for v in (worker.study_id, worker.assignment_id, worker.hit_id) if v]
    assert SEEKER.pid in found and SUPPORTER.pid in found
    return found


def expected_json(pair: Pair, flag: Flag) -> dict[str, Any]:
    conversation_id = pair.conversation.pk
    return {
        "type": "safety_alert",
        "flag_id": flag.pk,
        "conversation_id": conversation_id,
        "run": pair.run.name,
        "kind": "crisis_suicide_self_harm",
        "label": "Safety: suicide or self-harm",
        "crisis": True,
        "speaker": "seeker",
        "position": 2,
        "score": 0.93,
        "created_at": flag.created_at.isoformat(),
        "live_url": f"{SITE}/chat/live/{conversation_id}/",
        "queue_url": f"{SITE}/safety/",
    }


def posted(httpserver: HTTPServer) -> list[Any]:
    return [request for request, _ in httpserver.log]


def test_both_channels_receive_the_alert_with_what_staff_need(
    inbox: Inbox, httpserver: HTTPServer, channels: None
) -> None:
    pair, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")

    alert = alerts.alert_for_flag(flag.pk)
    assert alert is not None
    assert alerts.send_alert(alert) == {"email": True, "webhook": True}

    sender, recipients, message = inbox.only()
    assert recipients == [STAFF_INBOX]
    assert sender == settings.DEFAULT_FROM_EMAIL
    conversation_id = pair.conversation.pk
    assert message["Subject"] == (
        f"[ESC Platform] Safety alert: Safety: suicide or self-harm in conversation "
        f"{conversation_id}"
    )
    body = message.get_content()
    for part in (
        "crisis_suicide_self_harm",
        "score 0.93",
        f"conversation {conversation_id}",
        "message 2 (from the seeker)",
        repr(pair.run.name),
        flag.created_at.isoformat(),
        f"{SITE}/chat/live/{conversation_id}/",
        f"{SITE}/safety/",
    ):
        assert part in body, part

    [request] = posted(httpserver)
    assert request.headers["Content-Type"] == "application/json"
    assert "X-ESC-Signature" not in request.headers
    assert request.get_json() == expected_json(pair, flag)
    httpserver.check_assertions()


def test_no_message_text_worker_id_or_email_address_leaves(
    inbox: Inbox, httpserver: HTTPServer, channels: None
) -> None:
    pair, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    alerts.alert_staff(flag.pk)

    _, _, message = inbox.only()
    body = message.get_content()
    whole_mail = message.as_string()
    [request] = posted(httpserver)
    webhook = request.get_data(as_text=True)
    for secret in personal_strings(pair):
        assert secret not in whole_mail, secret
        assert secret not in webhook, secret
    # The only addresses are the envelope's (From, To): none inside what the alert says.
    assert "@" not in body
    assert "@" not in webhook


def test_a_mail_server_that_is_down_still_lets_the_webhook_through(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    _, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    closed = free_port()
    alert = alerts.alert_for_flag(flag.pk)
    assert alert is not None

    with (
        channel_settings(closed, httpserver.url_for(HOOK_PATH)),
        caplog.at_level(logging.WARNING, logger="safety.alerts"),
    ):
        assert alerts.send_alert(alert) == {"email": False, "webhook": True}

    assert len(posted(httpserver)) == 1
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    text = warning.getMessage()
    assert f"flag {flag.pk}" in text and "email" in text
    assert "ConnectionRefusedError" in text
    assert STAFF_INBOX not in text


def test_a_failing_webhook_still_lets_the_email_through(
    inbox: Inbox, httpserver: HTTPServer, channels: None, caplog: pytest.LogCaptureFixture
) -> None:
    _, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("no", status=500)
    alert = alerts.alert_for_flag(flag.pk)
    assert alert is not None

    with caplog.at_level(logging.WARNING, logger="safety.alerts"):
        assert alerts.send_alert(alert) == {"email": True, "webhook": False}

    assert len(inbox.received) == 1
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    text = warning.getMessage()
    assert f"flag {flag.pk}" in text and "webhook" in text and "HTTP 500" in text
    # A webhook URL often carries its own token: never in the log.
    assert "T0KEN" not in text and HOOK_PATH not in text


def test_a_webhook_that_redirects_has_failed(
    inbox: Inbox, httpserver: HTTPServer, channels: None
) -> None:
    _, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data(
        "", status=307, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    alert = alerts.alert_for_flag(flag.pk)
    assert alert is not None
    assert alerts.send_alert(alert) == {"email": True, "webhook": False}
    assert [r.path for r in posted(httpserver)] == [HOOK_PATH]


def test_the_signature_is_the_hmac_of_the_exact_body(inbox: Inbox, httpserver: HTTPServer) -> None:
    pair, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    with channel_settings(inbox.port, httpserver.url_for(HOOK_PATH), secret=SECRET):
        alerts.alert_staff(flag.pk)

    [request] = posted(httpserver)
    body = request.get_data()
    header = request.headers["X-ESC-Signature"]
    assert header.startswith("sha256=")
    good = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header, f"sha256={good}")
    wrong = hmac.new(b"another-secret", body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(header, f"sha256={wrong}")
    assert json.loads(body) == expected_json(pair, flag)


def test_alert_staff_sends_in_the_calling_thread_without_a_broker(
    inbox: Inbox, httpserver: HTTPServer, channels: None
) -> None:
    assert settings.CELERY_TASK_ALWAYS_EAGER, "the test settings have no broker"
    _, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")

    alerts.alert_staff(flag.pk)

    # Delivered before alert_staff returned: nothing was left to a worker or another thread.
    assert len(inbox.received) == 1
    assert len(posted(httpserver)) == 1


def test_nothing_is_sent_for_a_flag_that_is_not_about_safety(
    inbox: Inbox, httpserver: HTTPServer, channels: None
) -> None:
    pair, _ = crisis_flag()
    other = Flag.objects.create(conversation=pair.conversation, kind=Flag.Kind.SAME_NETWORK)
    assert alerts.alert_for_flag(other.pk) is None
    assert alerts.alert_for_flag(other.pk + 1000) is None
    alerts.alert_staff(other.pk)
    assert inbox.received == [] and posted(httpserver) == []


def test_a_conduct_flag_names_the_supporter(inbox: Inbox, channels: None) -> None:
    pair, _ = crisis_flag()
    utterance = pair.conversation.utterances.get(position=1)
    flag = Flag.objects.create(
        conversation=pair.conversation, utterance=utterance, kind="conduct_abusive", score=0.8
    )
    alert = alerts.alert_for_flag(flag.pk)
    assert alert is not None
    assert (alert.speaker, alert.position, alert.crisis) == ("supporter", 1, False)
    assert alert.label == "Supporter conduct: abusive"


def test_with_no_channel_configured_nothing_is_tried(inbox: Inbox) -> None:
    _, flag = crisis_flag()
    with override_settings(SAFETY_ALERT_EMAILS=[], SAFETY_ALERT_WEBHOOK_URL=""):
        alert = alerts.alert_for_flag(flag.pk)
        assert alert is not None
        assert alerts.send_alert(alert) == {}
    assert inbox.received == []


@pytest.fixture
def celery_in_process() -> Iterator[None]:
    """Run the task as Celery does, in this process: a retry runs again at once (not after its
    delay), and the outcome lands in the result instead of being raised at the caller."""
    app = send_safety_alert.app
    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    try:
        yield
    finally:
        app.conf.task_eager_propagates = saved


def test_the_task_retries_only_the_channel_that_failed(
    inbox: Inbox, httpserver: HTTPServer, channels: None, celery_in_process: None
) -> None:
    _, flag = crisis_flag()
    httpserver.expect_ordered_request(HOOK_PATH, method="POST").respond_with_data("", status=503)
    httpserver.expect_ordered_request(HOOK_PATH, method="POST").respond_with_data("ok")

    result = send_safety_alert.apply(args=[flag.pk])

    assert result.successful(), result.result

    assert len(inbox.received) == 1, "the email had gone through: it is not sent again"
    assert len(posted(httpserver)) == 2
    httpserver.check_assertions()


def test_the_task_gives_up_after_its_retries_and_says_so(
    inbox: Inbox, httpserver: HTTPServer, channels: None, celery_in_process: None
) -> None:
    _, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("", status=500)

    result = send_safety_alert.apply(args=[flag.pk])

    assert result.failed()
    assert str(result.result) == f"flag {flag.pk}: webhook not delivered"
    assert len(posted(httpserver)) == 1 + send_safety_alert.max_retries
    assert len(inbox.received) == 1


# --- with a broker --------------------------------------------------------------------------


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """This process's Celery app sends to `url` (no worker needed to fail), then back."""
    from esc_platform.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url, app.conf.task_always_eager = url, False
    reset()
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
            yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        reset()


def test_a_broker_that_is_down_does_not_lose_the_alert(
    inbox: Inbox, httpserver: HTTPServer, channels: None, caplog: pytest.LogCaptureFixture
) -> None:
    _, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")

    with (
        broker_at(f"redis://127.0.0.1:{free_port()}/0"),
        caplog.at_level(logging.WARNING, logger="safety.alerts"),
    ):
        alerts.alert_staff(flag.pk)

    assert len(inbox.received) == 1 and len(posted(httpserver)) == 1
    assert any("could not be queued" in r.getMessage() for r in caplog.records)


@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_a_broker_a_real_worker_sends_the_alert(
    inbox: Inbox, httpserver: HTTPServer, tmp_path: Path
) -> None:
    from tests.celery_support import running_worker

    pair, flag = crisis_flag()
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    hook = httpserver.url_for(HOOK_PATH)
    worker_env = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(inbox.port),
        "SAFETY_ALERT_EMAILS": STAFF_INBOX,
        "SAFETY_ALERT_WEBHOOK_URL": hook,
        "SAFETY_ALERT_WEBHOOK_SECRET": SECRET,
        "SITE_URL": SITE,
    }
    with running_worker(tmp_path, **worker_env) as worker:
        with channel_settings(inbox.port, hook, CELERY_TASK_ALWAYS_EAGER=False):
            alerts.alert_staff(flag.pk)
        # Queued, not sent here: the worker process delivers it.
        worker.wait_for(lambda: len(inbox.received) == 1 and len(posted(httpserver)) == 1)

    [request] = posted(httpserver)
    assert request.get_json() == expected_json(pair, flag)
    good = hmac.new(SECRET.encode(), request.get_data(), hashlib.sha256).hexdigest()
    assert request.headers["X-ESC-Signature"] == f"sha256={good}"
    assert "safety.tasks.send_safety_alert" in worker.log()
