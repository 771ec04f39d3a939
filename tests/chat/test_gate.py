"""The gate: no chat page or API accepts an unqualified supporter, an outsider or a stranger."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from chat.models import Conversation
from crowd.models import CollectionRun, Worker
from tests.cast import ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GUS, SAM
from tests.chat.factories import make_pair
from tests.crowd.factories import make_run
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import failed_supporter, trained_supporter, trainee


def _withdrawn(qualification: str) -> Callable[[CollectionRun, Client], Worker]:
    def build(run: CollectionRun, client: Client) -> Worker:
        gus = trained_supporter(GUS, run, client=client)
        # Staff withdraw his qualification in the worker admin (no service does): he still waits.
        Worker.objects.filter(pk=gus.pk).update(qualification=qualification)
        return gus

    return build


# Every way a supporter is not qualified: in training (Sam), failed for good (Frank), or a
# qualification withdrawn by staff while he waits (Gus), where only the gate stops him.
UNQUALIFIED: dict[str, Callable[[CollectionRun, Client], Worker]] = {
    "in_training": lambda run, client: trainee(SAM, run, client=client),
    "failed": lambda run, client: failed_supporter(FRANK, run, client=client),
    "withdrawn_to_in_training": _withdrawn(Worker.Qualification.IN_TRAINING),
    "withdrawn_to_failed": _withdrawn(Worker.Qualification.FAILED),
}


@pytest.mark.django_db
@pytest.mark.parametrize("how", UNQUALIFIED)
def test_it_refuses_an_unqualified_supporter_at_every_entrance(client: Client, how: str) -> None:
    run = make_run()
    waiting_seeker(ALICE, run)
    supporter = UNQUALIFIED[how](run, client)
    stage = Worker.objects.get(pk=supporter.pk).stage
    for url in ("/chat/waiting/", "/chat/room/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"not open to you" in response.content
    response = client.post("/api/chat/match/")
    assert response.status_code == 403
    assert response.json()["error"] == "not_allowed"
    assert not Conversation.objects.exists()
    assert Worker.objects.get(pk=supporter.pk).stage == stage


@pytest.mark.django_db
def test_it_refuses_a_browser_without_a_worker(client: Client) -> None:
    assert client.get("/chat/waiting/").status_code == 403
    assert client.get("/chat/room/").status_code == 403
    response = client.post("/api/chat/match/")
    assert (response.status_code, response.json()["error"]) == (403, "no_worker")


@pytest.mark.django_db
def test_the_waiting_page_shows_the_wait_and_polls(alice_client: Client) -> None:
    client = alice_client
    run = make_run()
    alice = waiting_seeker(ALICE, run, client=client)
    response = client.get("/chat/waiting/")
    assert response.status_code == 200
    assert b"Finding you a chat partner" in response.content
    assert b"chat/waiting.js" in response.content
    body = client.post("/api/chat/match/").json()
    assert body["state"] == "waiting" and body["next_url"] == "/chat/waiting/"

    bob = trained_supporter(BOB, run)
    body = client.post("/api/chat/match/").json()
    assert (body["state"], body["next_url"]) == ("matched", "/chat/room/")
    # The waiting page now forwards to the room, and the room opens.
    assert client.get("/chat/waiting/")["Location"] == "/chat/room/"
    room = client.get("/chat/room/")
    assert room.status_code == 200
    conversation = Conversation.objects.get(seeker=alice, supporter=bob)
    assert f"/ws/chat/{conversation.pk}/".encode() in room.content
    # The seeker's page never carries the strategy picker.
    assert b'name="strategy"' not in room.content


@pytest.mark.django_db
def test_the_api_refuses_get(alice_client: Client) -> None:
    waiting_seeker(ALICE, make_run(), client=alice_client)
    assert alice_client.get("/api/chat/match/").status_code == 405


@pytest.mark.django_db
def test_the_supporter_room_offers_the_eight_strategies(bob_client: Client) -> None:
    from crowd import vocabulary

    pair = make_pair(supporter_client=bob_client)
    content = bob_client.get("/chat/room/").content.decode()
    for name in vocabulary.STRATEGY_NAMES:
        assert f'value="{name}"' in content
    assert pair.conversation.situation in content


@pytest.mark.django_db
def test_it_shows_an_outsider_only_their_own_conversation(carol_client: Client) -> None:
    pair = make_pair()
    carol_pair = make_pair(pair.run, seeker=CAROL, supporter=DAVE, seeker_client=carol_client)
    content = carol_client.get("/chat/room/").content.decode()
    assert f"/ws/chat/{carol_pair.conversation.pk}/" in content
    assert f"/ws/chat/{pair.conversation.pk}/" not in content
    # The staff pages are not for workers.
    for url in ("/chat/live/", f"/chat/live/{pair.conversation.pk}/"):
        response = carol_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_it_sends_workers_elsewhere_when_not_at_that_stage(
    alice_client: Client, erin_client: Client
) -> None:
    pair = make_pair(seeker_client=alice_client)
    assert alice_client.get("/chat/waiting/")["Location"] == "/chat/room/"
    waiting_seeker(ERIN, pair.run, client=erin_client)
    assert erin_client.get("/chat/room/")["Location"] == "/chat/waiting/"


@pytest.mark.django_db
def test_staff_see_the_live_list_and_a_read_only_room(rita_client: Client) -> None:
    client = rita_client
    pair = make_pair()
    listing = client.get("/chat/live/").content.decode()
    assert f"/chat/live/{pair.conversation.pk}/" in listing
    assert "job crisis" in listing
    page = client.get(f"/chat/live/{pair.conversation.pk}/").content.decode()
    assert f"/ws/chat/{pair.conversation.pk}/watch/" in page
    assert 'id="composer"' not in page
    assert client.get("/chat/live/999999/").status_code == 404
