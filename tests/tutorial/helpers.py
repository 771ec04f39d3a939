"""Helpers for the tutorial tests: which shown option is right, and answering through the pages.

Every attempt draws its own items and option order, so "the right option" depends on the
worker and the part; the tests read it from the server's draw (they play the examiner, who
knows the key), and answer with the place of an option on the worker's page.
"""

from __future__ import annotations

from collections.abc import Collection

from django.test import Client

from crowd.models import Worker
from crowd.selectors import SESSION_KEY
from tutorial.models import AttemptItem


def worker_of(client: Client) -> Worker:
    return Worker.objects.select_related("run").get(pk=client.session[SESSION_KEY])


def drawn(worker: Worker, number: int) -> AttemptItem:
    """The item (and option order) the worker's open attempt shows at part `number`."""
    return (
        AttemptItem.objects.select_related("item", "subtask")
        .filter(attempt__worker=worker, attempt__submitted_at__isnull=True)
        .order_by("subtask__order")[number - 1]
    )


def right(worker: Worker, number: int) -> int:
    """The place of the right option on the worker's page for part `number`."""
    shown = drawn(worker, number)
    return shown.shown_position(shown.item.correct_option)


def wrong(worker: Worker, number: int) -> int:
    """The place of a wrong option (the one after the right one) for part `number`."""
    shown = drawn(worker, number)
    return (right(worker, number) + 1) % len(shown.option_order)


def post_answer(client: Client, number: int, option: int) -> None:
    shown = drawn(worker_of(client), number)
    response = client.post(f"/tutorial/{number}/", {"option": str(option), "item": shown.item.key})
    assert response.status_code == 302, response.content[:500]


def answer_all(client: Client, wrong_parts: Collection[int] = frozenset(), total: int = 11) -> None:
    """Answer every part through the pages; `wrong_parts` are 1-based numbers answered wrongly."""
    client.get("/tutorial/")  # opens (and draws) the attempt if this is the first visit
    worker = worker_of(client)
    for number in range(1, total + 1):
        option = wrong(worker, number) if number in wrong_parts else right(worker, number)
        post_answer(client, number, option)
