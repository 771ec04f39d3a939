"""Staff's live view shows the seeker's ratings and the open flags as they happen.

The list (/chat/live/) and the watched conversation (/chat/live/<id>/) are rendered with them
and poll /chat/live/feed/ and /chat/live/<id>/signals/ for what changed (chat/watch.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quality.models import Flag
from tests.cast import ALICE, BOB
from tests.chat.factories import Pair, end, make_pair, rate, say
from tests.tutorial.factories import load_content

pytestmark = pytest.mark.django_db


def _feed(client: Client) -> dict[int, dict[str, Any]]:
    response = client.get("/chat/live/feed/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return {row["id"]: row for row in response.json()["conversations"]}


def _signals(client: Client, pair: Pair) -> dict[str, Any]:
    response = client.get(f"/chat/live/{pair.conversation.pk}/signals/")
    assert response.status_code == 200
    return response.json()


def _example() -> str:
    """A supporter example of the tutorial, word for word: the chat flags it as copied."""
    return max(load_content(), key=lambda s: len(s.example_supporter.split())).example_supporter


def test_ratings_appear_when_given_and_are_counted_once(rita_client: Client) -> None:
    pair = make_pair(feedback_every=1)
    assert _feed(rita_client)[pair.conversation.pk]["ratings"] == []
    say(pair, pair.seeker, "I lost my job last week.")
    say(pair, pair.supporter, "That sounds hard. How are you coping?")
    rate(pair, pair.seeker, 4)
    # Given, not yet stored on the seeker's next message: staff see it at once.
    assert _signals(rita_client, pair)["ratings"] == [4]
    say(pair, pair.seeker, "Not well, honestly.")
    say(pair, pair.supporter, "Would you like to tell me more?")
    rate(pair, pair.seeker, 5)
    say(pair, pair.seeker, "Yes, thank you.")
    signals = _signals(rita_client, pair)
    assert signals["ratings"] == [4, 5] and signals["mean_rating"] == 4.5
    row = _feed(rita_client)[pair.conversation.pk]
    assert (row["ratings"], row["mean_rating"], row["turns"]) == ([4, 5], 4.5, 2)
    assert row["watch_url"] == f"/chat/live/{pair.conversation.pk}/"


def test_open_flags_appear_and_resolved_ones_go(rita_client: Client) -> None:
    pair = make_pair()
    say(pair, pair.seeker, "I cannot sleep since the exams started.")
    result = say(pair, pair.supporter, _example())
    assert result.warning is not None  # the supporter was told, and the message flagged
    flags = _signals(rita_client, pair)["flags"]
    assert [(f["kind"], f["label"], f["message"]) for f in flags] == [
        ("copied_example", "Copies a tutorial example", 2)
    ]
    assert flags[0]["detail"].startswith("Copies the tutorial example of")
    Flag.objects.create(
        conversation=pair.conversation,
        kind=Flag.Kind.SAME_NETWORK,
        detail="The seeker and the supporter entered from the same network address.",
    )
    kinds = [f["kind"] for f in _feed(rita_client)[pair.conversation.pk]["flags"]]
    assert kinds == ["copied_example", "same_network"]
    Flag.objects.filter(kind=Flag.Kind.COPIED_EXAMPLE).update(resolved_at=timezone.now())
    assert [f["kind"] for f in _signals(rita_client, pair)["flags"]] == ["same_network"]


def test_the_pages_are_rendered_with_them(rita_client: Client) -> None:
    pair = make_pair(feedback_every=1)
    say(pair, pair.seeker, "Hello.")
    say(pair, pair.supporter, _example())
    rate(pair, pair.seeker, 2)
    listing = rita_client.get("/chat/live/").content.decode()
    assert 'data-live-feed="/chat/live/feed/"' in listing
    assert '<span class="rating">2</span>' in listing and "(mean 2.0)" in listing
    assert 'data-kind="copied_example"' in listing and "(message 2)" in listing
    assert 'http-equiv="refresh"' not in listing.replace("<noscript><meta http-equiv", "")
    page = rita_client.get(f"/chat/live/{pair.conversation.pk}/").content.decode()
    assert f'data-watch-signals="/chat/live/{pair.conversation.pk}/signals/"' in page
    assert '<span class="rating">2</span>' in page and "Copies the tutorial example of" in page
    # Still the read-only room over the watch socket.
    assert f"/ws/chat/{pair.conversation.pk}/watch/" in page and 'id="composer"' not in page


def test_an_ended_chat_says_so_and_leaves_the_list(rita_client: Client) -> None:
    pair = make_pair(min_turns_to_end=0, min_seconds_to_end=0)
    say(pair, pair.seeker, "Thanks, that is all.")
    end(pair, pair.seeker, "finished")
    assert _signals(rita_client, pair)["state"] == "ended"
    assert pair.conversation.pk not in _feed(rita_client)


def test_the_endpoints_are_for_staff_only_and_name_no_crowd_site_id(
    rita_client: Client, alice_client: Client, otto_client: Client
) -> None:
    pair = make_pair(seeker_client=alice_client)
    urls = ("/chat/live/feed/", f"/chat/live/{pair.conversation.pk}/signals/")
    for client in (Client(), alice_client, otto_client):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 403, url
            assert response.json() == {"error": "Staff only: sign in at /admin/."}
    for url in urls:
        body = rita_client.get(url).content.decode()
        assert ALICE.pid not in body and BOB.pid not in body
        assert rita_client.post(url).status_code == 405


@pytest.mark.parametrize("conversation_id", ["999999", str(2**70)])
def test_an_unknown_conversation_is_a_json_404(rita_client: Client, conversation_id: str) -> None:
    response = rita_client.get(f"/chat/live/{conversation_id}/signals/")
    assert response.status_code == 404
    assert response.json() == {"error": "No such conversation."}
