"""Returned and timed-out submissions: Prolific's webhook verified by its signature and kept
once by its event id, a forged or replayed one refused; the worker leaves the task at once
with a fair status and a partner is finished fairly; the periodic poll frees a place a
webhook missed, within one run of the job."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from django.test import Client

from chat.models import Conversation
from crowd.models import Worker
from settlement.models import SiteEvent
from settlement.tasks import sync_crowd_sites
from settlement.webhooks import signature
from tests.cast import CAROL, ERIN
from tests.chat.factories import make_pair
from tests.crowd.factories import make_run
from tests.providers.mturk_server import MTurkServer
from tests.providers.prolific_server import ProlificServer
from tests.surveys.factories import waiting_seeker

pytestmark = pytest.mark.django_db
SECRET = "webhook-secret-for-tests"


def _post(
    client: Client,
    payload: dict[str, Any],
    *,
    event: str = "ev-1",
    secret: str = SECRET,
    stamp: float | None = None,
) -> Any:
    body = orjson.dumps(payload)
    timestamp = str(int(stamp if stamp is not None else time.time()))
    return client.post(
        "/crowd-sites/prolific/webhook/",
        body,
        content_type="application/json",
        headers={
            "X-Prolific-Request-Signature": signature(secret, timestamp, body),
            "X-Prolific-Request-Timestamp": timestamp,
            "X-Event-ID": event,
        },
    )


def _returned(worker: Worker, status: str = "RETURNED") -> dict[str, Any]:
    return {
        "resource_id": worker.assignment_id,
        "event_type": "submission.status.change",
        "participant_id": worker.external_id,
        "status": status,
    }


@pytest.fixture
def hooked(settings: Any) -> Any:
    settings.PROLIFIC_WEBHOOK_SECRET = SECRET
    return settings


def test_a_returned_submission_leaves_the_waiting_room_once(
    hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    erin = waiting_seeker(ERIN, make_run(name="pilot"))
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, _returned(erin))
        again = _post(client, _returned(erin))  # Prolific delivered it twice
    assert first.json() == {"ok": True, "duplicate": False}
    assert again.json() == {"ok": True, "duplicate": True}
    erin.refresh_from_db()
    assert (erin.stage, erin.outcome, erin.status_code) == ("done", "left_early", "01")
    [event] = SiteEvent.objects.all()
    assert event.result == "left before the chat" and event.processed_at is not None


def test_a_partner_who_times_out_mid_chat_ends_it_fairly(
    hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pair = make_pair()
    with django_capture_on_commit_callbacks(execute=True):
        _post(Client(), _returned(pair.supporter, "TIMED-OUT"), event="ev-2")
    conversation = Conversation.objects.get(pk=pair.conversation.pk)
    assert (conversation.state, conversation.end_reason) == ("ended", "supporter_left")
    pair.refresh()
    assert (pair.supporter.outcome, pair.supporter.status_code) == ("left_early", "01")
    assert (pair.seeker.outcome, pair.seeker.stage) == ("partner_left", "post_survey")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"secret": "someone else's"}, 403),  # forged
        ({"stamp": time.time() - 3600}, 403),  # replayed an hour later
    ],
)
def test_forged_and_replayed_calls_are_refused(
    hooked: Any, change: dict[str, Any], status: int
) -> None:
    erin = waiting_seeker(ERIN, make_run(name="pilot"))
    assert _post(Client(), _returned(erin), **change).status_code == status
    assert not SiteEvent.objects.exists()
    erin.refresh_from_db()
    assert erin.stage == "waiting"


def test_a_call_without_a_secret_set_up_or_not_json_is_refused(settings: Any) -> None:
    settings.PROLIFIC_WEBHOOK_SECRET = ""
    assert _post(Client(), {"x": 1}).status_code == 404
    settings.PROLIFIC_WEBHOOK_SECRET = SECRET
    stamp = str(int(time.time()))
    response = Client().post(
        "/crowd-sites/prolific/webhook/",
        b"not json",
        content_type="application/json",
        headers={
            "X-Prolific-Request-Signature": signature(SECRET, stamp, b"not json"),
            "X-Prolific-Request-Timestamp": stamp,
        },
    )
    assert response.status_code == 400 and not SiteEvent.objects.exists()


def test_a_call_naming_someone_else_s_submission_changes_nothing(
    hooked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    erin = waiting_seeker(ERIN, make_run(name="pilot"))
    with django_capture_on_commit_callbacks(execute=True):
        _post(Client(), {**_returned(erin), "participant_id": "somebody-else"})
    erin.refresh_from_db()
    assert erin.stage == "waiting"
    assert SiteEvent.objects.get().result == "the participant does not match the submission"


def test_the_poll_frees_a_place_a_webhook_missed(
    connected: tuple[ProlificServer, MTurkServer],
) -> None:
    prolific_server = connected[0]
    run = make_run(name="pilot")
    gone, staying = waiting_seeker(ERIN, run), waiting_seeker(CAROL, run)
    for worker, status in ((gone, "RETURNED"), (staying, "ACTIVE")):
        submission = prolific_server.add_submission(worker.study_id, worker.external_id, status)
        Worker.objects.filter(pk=worker.pk).update(assignment_id=submission)
    assert sync_crowd_sites() == {"left before the chat": 1}
    gone.refresh_from_db()
    staying.refresh_from_db()
    assert (gone.stage, gone.status_code) == ("done", "01")
    assert staying.stage == "waiting"
    assert sync_crowd_sites() == {"already finished here": 1}


def test_the_poll_does_nothing_without_a_prolific_token(settings: Any) -> None:
    settings.PROLIFIC_API_TOKEN = ""
    waiting_seeker(ERIN, make_run(name="pilot"))
    assert sync_crowd_sites() == {}
