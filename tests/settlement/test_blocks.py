"""Blocking a worker from the review page: refused at entry in every run under every id the
platform knows for them and from their browser, blocked on their crowd site (local servers),
recorded in the audit trail; only with the permission; lifted in the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from crowd import vocabulary
from settlement import blocks
from settlement.models import Block
from staff.models import AuditEvent
from tests.cast import ADA, ALICE, BOB, CAROL, RITA, Actor, account
from tests.chat.factories import make_pair
from tests.crowd.factories import address_of, device_of, enter, entry_params, make_run, use_device
from tests.providers.mturk_server import MTurkServer
from tests.providers.prolific_server import ProlificServer

pytestmark = pytest.mark.django_db
GROUP = "blocked-group"


@pytest.fixture
def sites(connected: tuple[ProlificServer, MTurkServer], settings: Any) -> Any:
    settings.PROLIFIC_BLOCK_GROUP = GROUP
    connected[0].add_group(GROUP)
    return connected


def _blocker() -> Client:
    rita = account(RITA)
    rita.user_permissions.add(Permission.objects.get(codename="block_worker"))
    client = Client()
    client.force_login(rita)
    return client


def _arrive(actor: Actor, run: Any, *, device: str | None = None) -> int:
    """The status of the actor opening their entry link of `run` (in their own browser)."""
    params = entry_params(actor, actor.role, run)
    client = use_device(Client(), device or device_of(params))
    return client.get("/start/", params, REMOTE_ADDR=address_of(params)).status_code


def test_a_blocked_supporter_is_refused_everywhere_and_blocked_on_prolific(sites: Any) -> None:
    prolific, _ = sites
    pair = make_pair()
    client = _blocker()
    response = client.post(
        f"/quality/review/{pair.conversation.pk}/block/",
        {"role": "supporter", "reason": "pasted the same script into every chat"},
        follow=True,
    )
    assert "The supporter is blocked from the lab&#x27;s studies." in response.content.decode()
    block = Block.objects.get()
    assert (block.worker, block.site_state) == (pair.supporter, "confirmed")
    assert prolific.members(GROUP) == {pair.supporter.external_id}
    [event] = AuditEvent.objects.filter(action="block")
    assert event.user == account(RITA) and event.detail["worker"] == pair.supporter.pk

    later = make_run(name="main-study", study="other-study")
    assert _arrive(BOB, later) == 403  # the same id, another run and study
    stranger = Actor("bobs-second-id", vocabulary.SUPPORTER, "")
    params = entry_params(BOB, BOB.role, later)
    assert _arrive(stranger, later, device=device_of(params)) == 403  # Bob's browser
    assert _arrive(CAROL, later) == 302  # nobody else
    page = client.get(f"/quality/review/{pair.conversation.pk}/").content.decode()
    assert "The supporter is blocked: pasted the same script into every chat" in page


def test_an_mturk_worker_is_blocked_with_the_reason(sites: Any) -> None:
    _, mturk = sites
    worker = enter(Actor("wmturk1", vocabulary.SEEKER, ""), make_run(name="hits"), mturk=True)
    made = blocks.block(worker, reason="abusive to the supporter", user=account(ADA))
    assert made.site_state == "confirmed"
    assert mturk.calls("CreateWorkerBlock") == [
        {"WorkerId": worker.external_id, "Reason": "abusive to the supporter"}
    ]


def test_a_reviewer_without_the_permission_may_not_block(sites: Any) -> None:
    pair = make_pair()
    client = Client()
    client.force_login(account(RITA))
    response = client.post(
        f"/quality/review/{pair.conversation.pk}/block/", {"role": "seeker", "reason": "x"}
    )
    assert response.status_code == 403 and not Block.objects.exists()
    page = client.get(f"/quality/review/{pair.conversation.pk}/").content.decode()
    assert 'action="/quality/review/' not in page.split('data-testid="blocks"')[1]


def test_a_block_the_site_refuses_stays_in_force_here(sites: Any, settings: Any) -> None:
    settings.PROLIFIC_BLOCK_GROUP = ""  # no block-list group set up on Prolific
    pair = make_pair()
    response = _blocker().post(
        f"/quality/review/{pair.conversation.pk}/block/",
        {"role": "seeker", "reason": "took part under two ids"},
        follow=True,
    )
    assert "the crowd site refused the block" in response.content.decode()
    block = Block.objects.get()
    assert block.site_state == "failed" and "block-list" in block.site_error
    assert _arrive(ALICE, make_run(name="again", study="s2")) == 403


def test_a_block_needs_a_reason_and_is_made_once(sites: Any) -> None:
    pair = make_pair()
    with pytest.raises(blocks.BlockError, match="Say why"):
        blocks.block(pair.seeker, reason="  ")
    blocks.block(pair.seeker, reason="spam")
    with pytest.raises(blocks.BlockError, match="blocked already"):
        blocks.block(pair.seeker, reason="spam again")


def test_lifting_a_block_in_the_admin_lets_the_person_in_again(sites: Any, ada_client: Any) -> None:
    prolific, _ = sites
    pair = make_pair()
    block = blocks.block(pair.supporter, reason="by mistake")
    later = make_run(name="later", study="s3")
    assert _arrive(BOB, later) == 403
    response = ada_client.post(
        "/admin/settlement/block/", {"action": "lift_blocks", "_selected_action": [block.pk]}
    )
    assert response.status_code == 302
    block.refresh_from_db()
    assert block.lifted_at is not None and prolific.members(GROUP) == set()
    assert _arrive(BOB, later) == 302
    assert AuditEvent.objects.filter(action="unblock").count() == 1
