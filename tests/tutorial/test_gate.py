"""`Worker.is_qualified_supporter`: the rule every chat entrance asks of a supporter."""

from __future__ import annotations

import pytest

from tests.tutorial.helpers import answer_all

pytestmark = pytest.mark.django_db


def test_it_qualifies_only_supporters_who_passed(enter, content) -> None:
    alice_client, alice = enter("alice")
    bob_client, bob = enter("bob")
    _, sam = enter("sam", role="seeker")
    assert not alice.is_qualified_supporter and not sam.is_qualified_supporter

    answer_all(alice_client, content)
    alice_client.post("/tutorial/submit/")
    for _ in range(2):
        answer_all(bob_client, content, wrong_parts=frozenset({1}))
        bob_client.post("/tutorial/submit/")
        bob_client.post("/tutorial/retry/")

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.is_qualified_supporter
    assert not bob.is_qualified_supporter
    assert not sam.is_qualified_supporter
