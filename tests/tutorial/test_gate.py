"""`Worker.is_qualified_supporter`: the rule every chat entrance asks of a supporter."""

from __future__ import annotations

import pytest

from tests.cast import ALICE, BOB, FRANK
from tests.crowd.factories import enter
from tests.tutorial.helpers import answer_all

pytestmark = pytest.mark.django_db


def test_it_qualifies_only_supporters_who_passed(
    bob_client, frank_client, alice_client, content
) -> None:
    bob = enter(BOB, client=bob_client)
    frank = enter(FRANK, client=frank_client)
    alice = enter(ALICE, client=alice_client)
    assert not bob.is_qualified_supporter and not alice.is_qualified_supporter

    answer_all(bob_client)
    bob_client.post("/tutorial/submit/")
    for _ in range(2):
        answer_all(frank_client, wrong_parts={1})
        frank_client.post("/tutorial/submit/")
        frank_client.post("/tutorial/retry/")

    bob.refresh_from_db()
    frank.refresh_from_db()
    assert bob.is_qualified_supporter
    assert not frank.is_qualified_supporter
    assert not alice.is_qualified_supporter
