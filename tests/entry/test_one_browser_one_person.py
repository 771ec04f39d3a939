"""A task belongs to the browser that first opened it, and a person takes part once.

Mallory knows other people's crowd ids (they are not secret) and opens their links in her own
browser; she also tries to take part twice: as both partners, in another run, under the other
provider. Each of these was possible before devices were recorded (docs/workers.md, "One
browser, one person").
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, transaction
from django.test import Client

from chat import matching
from chat.models import Conversation
from crowd import devices
from crowd.models import CollectionRun, DeviceSwitch, Worker
from crowd.selectors import SESSION_KEY
from quality.models import Flag
from tests.cast import ALICE, BOB, MALLORY
from tests.chat.factories import make_pair
from tests.chat.sockets import connect
from tests.crowd.factories import enter, entry_params, make_run
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import trained_supporter

pytestmark = pytest.mark.django_db

OTHER_BROWSER = b"This task is open in another browser"
TOOK_PART = b"You have already taken part"


def _link(actor_name: str, role: str, run: CollectionRun | None, *, mturk: bool = False) -> str:
    params = entry_params(actor_name, role, run, mturk=mturk)
    return "/start/?" + "&".join(f"{key}={value}" for key, value in params.items())


def test_another_browser_with_a_victim_s_id_gets_nothing_at_any_stage(
    alice_client: Client, mallory_client: Client
) -> None:
    pair = make_pair(seeker_client=alice_client)
    alice = pair.seeker
    refused = mallory_client.get(_link(ALICE.pid, "seeker", alice.run))
    assert refused.status_code == 409
    assert OTHER_BROWSER in refused.content
    assert SESSION_KEY not in mallory_client.session
    for page in ("/chat/room/", "/chat/waiting/", "/done/", "/consent/", "/surveys/post-chat/"):
        assert mallory_client.get(page).status_code == 403, page
    # Alice's own browser still holds her chat.
    assert alice_client.get("/chat/room/").status_code == 200


def test_a_session_the_task_has_moved_away_from_opens_no_socket() -> None:
    pair = make_pair()
    stale = SessionStore()
    stale[SESSION_KEY] = pair.seeker.pk
    stale[devices.DEVICE_SESSION_KEY] = devices.device_key("a browser it moved away from")
    stale.create()

    async def refused_code() -> int:
        socket = await connect(
            f"/ws/chat/{pair.conversation.pk}/?after=0", f"sessionid={stale.session_key}"
        )
        output = await socket.receive_output(timeout=3)
        await socket.disconnect()
        return int(output["code"])

    assert async_to_sync(refused_code)() == 4401


def test_a_run_may_let_a_task_move_before_the_chat_and_records_it(
    alice_client: Client, mallory_client: Client
) -> None:
    run = make_run(allow_device_switch=True)
    alice = enter(ALICE, run, client=alice_client)
    new_phone = Client()
    moved = new_phone.get(_link(ALICE.pid, "seeker", run))
    assert moved.status_code == 302
    switch = DeviceSwitch.objects.get(worker=alice)
    assert switch.stage == Worker.Stage.PRE_SURVEY
    assert switch.from_device != switch.to_device
    # The browser it moved away from is bound to nobody now.
    assert alice_client.get("/surveys/pre-chat/").status_code == 403
    assert new_phone.get("/surveys/pre-chat/").status_code == 200


def test_a_live_chat_never_moves_even_where_the_run_allows_moves(mallory_client: Client) -> None:
    run = make_run(allow_device_switch=True)
    pair = make_pair(run=run)
    refused = mallory_client.get(_link(ALICE.pid, "seeker", pair.seeker.run))
    assert refused.status_code == 409
    assert not DeviceSwitch.objects.exists()
    assert Worker.objects.get(pk=pair.seeker.pk).device_key == pair.seeker.device_key


def test_one_person_is_never_both_partners_nor_paid_twice(mallory_client: Client) -> None:
    run = make_run()
    assert mallory_client.get(_link(MALLORY.pid, "seeker", run)).status_code == 302
    other_site = Client()
    refused = other_site.get(_link(MALLORY.pid.upper(), "supporter", run, mturk=True))
    assert refused.status_code == 403
    assert TOOK_PART in refused.content
    assert Worker.objects.filter(run=run).count() == 1
    # The database holds the rule too, so no race and no payment export can list her twice.
    mallory = Worker.objects.get(run=run)
    with pytest.raises(IntegrityError), transaction.atomic():
        Worker.objects.create(
            run=run,
            role="supporter",
            provider="mturk",
            external_id="MALLORY",
            person_key=mallory.person_key,
        )


def test_a_person_takes_part_once_across_the_runs_of_a_study(alice_client: Client) -> None:
    first, second = make_run(study="wellbeing"), make_run(study="wellbeing")
    enter(ALICE, first, client=alice_client)
    refused = alice_client.post("/start/", entry_params(ALICE, "seeker", second))
    assert refused.status_code == 403
    assert TOOK_PART in refused.content
    # Another study is another matter, and so is a run that only counts its own people.
    assert Client().get(_link(ALICE.pid, "seeker", make_run(study="sleep"))).status_code == 302
    per_run = make_run(study="wellbeing", participation="once_per_run")
    assert Client().get(_link(ALICE.pid, "seeker", per_run)).status_code == 302


def test_a_get_never_moves_a_browser_that_holds_a_live_task(alice_client: Client) -> None:
    run = make_run()
    alice = enter(ALICE, run, client=alice_client)
    asked = alice_client.get(_link(MALLORY.pid, "seeker", run))
    assert asked.status_code == 200
    assert b"You have a task open in this browser" in asked.content
    assert alice_client.session[SESSION_KEY] == alice.pk
    assert not Worker.objects.filter(external_id=MALLORY.pid).exists()

    guarded = Client(enforce_csrf_checks=True)
    guarded.cookies = alice_client.cookies
    forged = guarded.post("/start/", entry_params(MALLORY, "seeker", run))
    assert forged.status_code == 403
    assert not Worker.objects.filter(external_id=MALLORY.pid).exists()

    confirmed = alice_client.post("/start/", entry_params(MALLORY, "seeker", run))
    assert confirmed.status_code == 302
    assert alice_client.session[SESSION_KEY] == Worker.objects.get(external_id=MALLORY.pid).pk


def test_matching_never_pairs_one_browser_and_flags_one_network() -> None:
    run = make_run()
    alice = waiting_seeker(ALICE, run)
    mallory_as_supporter = trained_supporter(BOB, run)
    # Both tasks held by one browser (what a switch in one browser leaves behind).
    Worker.objects.filter(pk=mallory_as_supporter.pk).update(device_key=alice.device_key)
    assert matching.match_waiting_workers(run) == 0
    Worker.objects.filter(pk=mallory_as_supporter.pk).update(
        device_key=devices.device_key("another browser"), network_key=alice.network_key
    )
    assert alice.network_key, "an entry records its network"
    assert devices.network_key("127.0.0.1") == "", "not the server's own machine"
    assert matching.match_waiting_workers(run) == 1
    conversation = Conversation.objects.get()
    assert Flag.objects.filter(conversation=conversation, kind=Flag.Kind.SAME_NETWORK).count() == 1
