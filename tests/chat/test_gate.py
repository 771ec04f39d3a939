"""The gate: no chat page or API accepts an unqualified supporter, an outsider or a stranger."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat.models import Conversation
from crowd.models import Worker
from tests.chat.conftest import login, make_pair, make_run, make_supporter, make_waiting_seeker

UNQUALIFIED = [Worker.Qualification.IN_TRAINING, Worker.Qualification.FAILED]


@pytest.mark.django_db
@pytest.mark.parametrize("qualification", UNQUALIFIED)
def test_it_refuses_an_unqualified_supporter_at_every_entrance(
    client: Client, qualification: str
) -> None:
    run = make_run()
    make_waiting_seeker(run)
    bob = make_supporter(run, "bob-unqualified", qualification)
    login(client, bob)
    for url in ("/chat/waiting/", "/chat/room/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"not open to you" in response.content
    response = client.post("/api/chat/match/")
    assert response.status_code == 403
    assert response.json()["error"] == "not_allowed"
    assert not Conversation.objects.exists()
    assert Worker.objects.get(pk=bob.pk).stage == "waiting"


@pytest.mark.django_db
def test_it_refuses_a_browser_without_a_worker(client: Client) -> None:
    assert client.get("/chat/waiting/").status_code == 403
    assert client.get("/chat/room/").status_code == 403
    response = client.post("/api/chat/match/")
    assert (response.status_code, response.json()["error"]) == (403, "no_worker")


@pytest.mark.django_db
def test_the_waiting_page_shows_the_wait_and_polls(client: Client) -> None:
    run = make_run()
    sam = make_waiting_seeker(run)
    login(client, sam)
    response = client.get("/chat/waiting/")
    assert response.status_code == 200
    assert b"Finding you a chat partner" in response.content
    assert b"chat/waiting.js" in response.content
    body = client.post("/api/chat/match/").json()
    assert body["state"] == "waiting" and body["next_url"] == "/chat/waiting/"

    alice = make_supporter(run)
    body = client.post("/api/chat/match/").json()
    assert (body["state"], body["next_url"]) == ("matched", "/chat/room/")
    # The waiting page now forwards to the room, and the room opens.
    assert client.get("/chat/waiting/")["Location"] == "/chat/room/"
    room = client.get("/chat/room/")
    assert room.status_code == 200
    conversation = Conversation.objects.get(seeker=sam, supporter=alice)
    assert f"/ws/chat/{conversation.pk}/".encode() in room.content
    # The seeker's page never carries the strategy picker.
    assert b'name="strategy"' not in room.content


@pytest.mark.django_db
def test_the_api_refuses_get(client: Client) -> None:
    login(client, make_waiting_seeker(make_run()))
    assert client.get("/api/chat/match/").status_code == 405


@pytest.mark.django_db
def test_the_supporter_room_offers_the_eight_strategies(client: Client) -> None:
    from crowd import vocabulary

    pair = make_pair()
    login(client, pair.supporter)
    content = client.get("/chat/room/").content.decode()
    for name in vocabulary.STRATEGY_NAMES:
        assert f'value="{name}"' in content
    assert pair.conversation.situation in content


@pytest.mark.django_db
def test_it_shows_an_outsider_only_their_own_conversation(client: Client) -> None:
    pair = make_pair()
    charlie_pair = make_pair()
    login(client, charlie_pair.seeker)
    content = client.get("/chat/room/").content.decode()
    assert f"/ws/chat/{charlie_pair.conversation.pk}/" in content
    assert f"/ws/chat/{pair.conversation.pk}/" not in content
    # The staff pages are not for workers.
    for url in ("/chat/live/", f"/chat/live/{pair.conversation.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_it_sends_workers_elsewhere_when_not_at_that_stage(client: Client) -> None:
    pair = make_pair()
    login(client, pair.seeker)
    assert client.get("/chat/waiting/")["Location"] == "/chat/room/"
    run = make_run()
    waiting = make_waiting_seeker(run, "wendy")
    login(client, waiting)
    assert client.get("/chat/room/")["Location"] == "/chat/waiting/"


@pytest.mark.django_db
def test_staff_see_the_live_list_and_a_read_only_room(client: Client) -> None:
    pair = make_pair()
    rita = get_user_model().objects.create_user(
        username="rita", password="a-long-password-1", is_staff=True
    )
    client.force_login(rita)
    listing = client.get("/chat/live/").content.decode()
    assert f"/chat/live/{pair.conversation.pk}/" in listing
    assert "job crisis" in listing
    page = client.get(f"/chat/live/{pair.conversation.pk}/").content.decode()
    assert f"/ws/chat/{pair.conversation.pk}/watch/" in page
    assert 'id="composer"' not in page
    assert client.get("/chat/live/999999/").status_code == 404
