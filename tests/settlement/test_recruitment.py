"""Recruitment under control: a paused run, or one that reached its target, asks newcomers to
come back later before anything is made; a run keeping its roles balanced asks the side with
too many on their way; at the target, entry closes and the study is paused on each crowd site
(local servers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from quality.job import run_quality_control
from settlement.recruitment import check_targets
from staff.models import AuditEvent
from tests.cast import Actor
from tests.crowd.factories import address_of, device_of, enter, entry_params, make_run, use_device
from tests.providers.mturk_server import MTurkServer
from tests.providers.prolific_server import ProlificServer
from tests.quality.factories import make_conversation, quality_run

pytestmark = pytest.mark.django_db


def _arrive(name: str, role: str, run: CollectionRun, *, mturk: bool = False) -> Any:
    actor = Actor(name, role, "")
    params = entry_params(actor, role, run, mturk=mturk)
    client = use_device(Client(), device_of(params))
    return client.get("/start/", params, REMOTE_ADDR=address_of(params))


def test_a_paused_run_asks_newcomers_to_come_back_before_anything_is_made() -> None:
    run = make_run(name="pilot", paused=True)
    response = _arrive("newcomer", vocabulary.SEEKER, run)
    page = response.content.decode()
    assert response.status_code == 503 and "Please come back later" in page
    assert "return the study on Prolific" in page
    assert not Worker.objects.exists()
    on_mturk = _arrive("wnew", vocabulary.SEEKER, run, mturk=True).content.decode()
    assert "return the HIT on MTurk" in on_mturk
    CollectionRun.objects.filter(pk=run.pk).update(paused=False)
    assert _arrive("newcomer", vocabulary.SEEKER, run).status_code == 302


def test_a_balanced_run_asks_the_side_with_too_many_on_their_way() -> None:
    run = make_run(name="pilot", entry_balance=2)
    assert _arrive("s1", vocabulary.SEEKER, run).status_code == 302
    assert _arrive("s2", vocabulary.SEEKER, run).status_code == 302
    third = _arrive("s3", vocabulary.SEEKER, run)
    assert third.status_code == 503 and "Too few supporters" in third.content.decode()
    assert _arrive("p1", vocabulary.SUPPORTER, run).status_code == 302  # the other side may
    assert _arrive("s3", vocabulary.SEEKER, run).status_code == 302  # and then one more
    # Someone who started long ago and never got further no longer counts as on their way.
    Worker.objects.filter(role=vocabulary.SEEKER).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    assert _arrive("s4", vocabulary.SEEKER, run).status_code == 302
    # Whoever has entered already comes back in, whatever the balance.
    assert _arrive("s1", vocabulary.SEEKER, run).status_code == 302


def test_without_a_balance_everyone_is_let_in() -> None:
    run = make_run(name="pilot")
    for n in range(6):
        assert _arrive(f"seeker{n}", vocabulary.SEEKER, run).status_code == 302


def test_at_the_target_entry_closes_and_the_studies_are_paused(
    connected: tuple[ProlificServer, MTurkServer],
) -> None:
    prolific_server, mturk_server = connected
    run = quality_run()
    CollectionRun.objects.filter(pk=run.pk).update(target_approved=2)
    prolific_server.add_study("study-1")
    mturk_server.add_hit("H1")
    enter(Actor("wturk3", vocabulary.SEEKER, ""), run, mturk=True)
    make_conversation()
    run_quality_control()
    assert CollectionRun.objects.get(pk=run.pk).entry_closed_at is None  # one of two
    make_conversation()
    run_quality_control()
    assert Conversation.objects.filter(run=run, quality_status="approved").count() == 2
    closed = CollectionRun.objects.get(pk=run.pk)
    assert closed.entry_closed_at is not None
    assert prolific_server.studies["study-1"]["status"] == "PAUSED"
    assert mturk_server.hits["H1"]["Expiration"] is not None
    [event] = AuditEvent.objects.filter(action="target_reached")
    assert event.detail["paused"] == ["mturk:H1", "prolific:study-1"]
    assert _arrive("latecomer", vocabulary.SEEKER, closed).status_code == 503
    assert check_targets() == []  # closed once
