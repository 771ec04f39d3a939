"""Only a live rehearsal token of the run marks a worker simulated (docs/rehearsal.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crowd.models import Worker
from rehearsal import tokens
from rehearsal.models import RehearsalToken
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db


def _link(run_name: str, pid: str, **extra: str) -> dict[str, str]:
    return {
        "role": "seeker",
        "run": run_name,
        "PROLIFIC_PID": pid,
        "SESSION_ID": f"s-{pid}",
        **extra,
    }


def test_a_live_token_of_the_run_marks_the_new_worker_simulated_and_is_counted() -> None:
    run = make_run()
    secret = tokens.issue(run, minutes=5, by="a test")
    response = Client().get("/start/", _link(run.name, "sim-1", rehearsal=secret))
    assert response.status_code == 302
    assert Worker.objects.get(external_id="sim-1").simulated is True
    token = RehearsalToken.objects.get()
    assert (token.workers_entered, token.issued_by) == (1, "a test")
    assert secret not in token.digest  # only the hash is kept


@pytest.mark.parametrize("problem", ["expired", "revoked", "other run", "unknown"])
def test_any_other_token_is_refused_and_nothing_is_created(problem: str) -> None:
    run, other = make_run(), make_run()
    secret = tokens.issue(other if problem == "other run" else run, minutes=5)
    if problem == "expired":
        RehearsalToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif problem == "revoked":
        tokens.revoke(secret)
    elif problem == "unknown":
        secret = "x" * 32
    response = Client().get("/start/", _link(run.name, "sim-2", rehearsal=secret))
    assert response.status_code == 400
    assert b"rehearsal link is not valid" in response.content
    assert not Worker.objects.exists()


def test_a_malformed_token_is_refused_before_anything_is_read() -> None:
    run = make_run()
    response = Client().get("/start/", _link(run.name, "sim-3", rehearsal="<script>"))
    assert response.status_code == 400
    assert b"rehearsal token in the link is not valid" in response.content
    assert not Worker.objects.exists()


def test_nothing_else_a_browser_sends_marks_a_worker_simulated() -> None:
    run = make_run()
    params = _link(run.name, "real-1", simulated="1", is_simulated="true", rehearsal="")
    assert Client().get("/start/", params).status_code == 302
    assert Worker.objects.get(external_id="real-1").simulated is False


def test_an_existing_worker_never_becomes_simulated() -> None:
    run = make_run()
    browser = Client()
    assert browser.get("/start/", _link(run.name, "real-2")).status_code == 302
    secret = tokens.issue(run, minutes=5)
    assert browser.get("/start/", _link(run.name, "real-2", rehearsal=secret)).status_code == 302
    assert Worker.objects.get(external_id="real-2").simulated is False


def test_a_token_lives_between_one_minute_and_a_day() -> None:
    run = make_run()
    for minutes in (0, 24 * 60 + 1):
        with pytest.raises(ValueError, match="1 to 1440 minutes"):
            tokens.issue(run, minutes=minutes)
    assert not RehearsalToken.objects.exists()
