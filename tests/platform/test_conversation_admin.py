"""The admin's conversation page stays small and quick however long the chat: utterances are
shown read-only, a page at a time; edits go through the reviewers' audited corrections."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from chat.admin import UTTERANCES_PER_PAGE
from chat.models import Conversation, Utterance
from crowd import vocabulary
from tests.chat.factories import make_pair

pytestmark = pytest.mark.django_db

LONG = 2000


@pytest.fixture
def long_conversation() -> Conversation:
    conversation = make_pair().conversation
    Utterance.objects.bulk_create(
        Utterance(
            conversation=conversation,
            position=n,
            speaker=vocabulary.SEEKER if n % 2 else vocabulary.SUPPORTER,
            strategy=None if n % 2 else "Question",
            text=f"utterance number {n}",
        )
        for n in range(1, LONG + 1)
    )
    return conversation


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="utterance-row"><td>(\d+)</td>', html)


def test_the_change_page_shows_one_page_of_utterances_with_few_queries(
    ada_client: Client, long_conversation: Conversation, django_assert_max_num_queries
) -> None:
    url = f"/admin/chat/conversation/{long_conversation.pk}/change/"
    with django_assert_max_num_queries(25):
        response = ada_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert _rows(html) == [str(n) for n in range(1, UTTERANCES_PER_PAGE + 1)]
    assert f"Utterances ({LONG})" in html
    assert "page 1 of 20" in html
    assert len(html) < 200_000
    # Read-only: no form field for any utterance, and a link to the audited corrections.
    assert "<textarea" not in html and 'name="utterances-' not in html
    assert f'href="/quality/review/{long_conversation.pk}/"' in html

    with django_assert_max_num_queries(25):
        last = ada_client.get(url, {"utterances_page": "20"}).content.decode()
    assert _rows(last)[-1] == str(LONG)
    # A page number that is not one shows the first page rather than an error.
    assert _rows(ada_client.get(url, {"utterances_page": "x"}).content.decode())[0] == "1"


def test_the_utterance_list_pages_through_one_conversation(
    ada_client: Client, long_conversation: Conversation, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(20):
        response = ada_client.get(
            "/admin/chat/utterance/", {"conversation__id__exact": long_conversation.pk}
        )
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == UTTERANCES_PER_PAGE


def test_the_admin_edits_nothing(ada_client: Client, long_conversation: Conversation) -> None:
    url = f"/admin/chat/conversation/{long_conversation.pk}/change/"
    before = Conversation.objects.filter(pk=long_conversation.pk).values().get()
    response = ada_client.post(url, {"situation": "rewritten", "problem_type": "other"})
    assert response.status_code == 403
    assert Conversation.objects.filter(pk=long_conversation.pk).values().get() == before
    utterance = Utterance.objects.get(conversation=long_conversation, position=1)
    assert ada_client.post(f"/admin/chat/utterance/{utterance.pk}/change/", {}).status_code == 403
    assert ada_client.get("/admin/chat/conversation/add/").status_code == 403
