"""`tutorial.selectors.is_qualified`: the gate every chat entrance asks."""

from __future__ import annotations

import pytest

from tests.tutorial.helpers import answer_all
from tutorial.selectors import is_qualified

pytestmark = pytest.mark.django_db


def test_it_qualifies_only_supporters_who_passed(enter, content) -> None:
    alice_client, alice = enter("alice")
    bob_client, bob = enter("bob")
    _, sam = enter("sam", role="seeker")
    assert not is_qualified(alice) and not is_qualified(sam) and not is_qualified(None)

    answer_all(alice_client, content)
    alice_client.post("/tutorial/submit/")
    for _ in range(2):
        answer_all(bob_client, content, wrong_parts=frozenset({1}))
        bob_client.post("/tutorial/submit/")
        bob_client.post("/tutorial/retry/")

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert is_qualified(alice)
    assert not is_qualified(bob)
    assert not is_qualified(sam)
