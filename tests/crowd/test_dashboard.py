"""The run dashboard: counts by role, status and stage, chat length, intensities, pay."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from chat import messages
from chat.models import Conversation
from crowd import payments
from crowd.dashboard import run_dashboard
from crowd.models import CollectionRun, Worker
from tests.surveys.journey import (
    arrive,
    end,
    make_run,
    seeker_and_supporter,
    seeker_post_answers,
)

pytestmark = pytest.mark.django_db


def _talk(conversation: Conversation, count: int) -> None:
    for i in range(count):
        if i % 2 == 0:
            worker_id, strategy = conversation.seeker_id, None
        else:
            worker_id, strategy = conversation.supporter_id, "Question"
        assert worker_id is not None
        messages.post_message(
            conversation.pk, worker_id, client_id=f"m{i}", text=f"message {i}", strategy=strategy
        )


@pytest.fixture
def busy_run(
    alice_client: Client, bob_client: Client, carol_client: Client, dave_client: Client
) -> CollectionRun:
    """Alice+Bob: 4 messages, finished, 10 minutes, Alice rated 4 then 2 and was paid.
    Carol+Dave: 2 messages, Carol left after 20 minutes. Erin: a seeker still at the survey."""
    run = make_run(base_pay=Decimal("1.00"), bonus=Decimal("1.00"))
    first = seeker_and_supporter(run, alice_client, bob_client, "alice", "bob")
    second = seeker_and_supporter(run, carol_client, dave_client, "carol", "dave")
    _talk(first, 4)
    _talk(second, 2)
    assert first.seeker is not None and second.seeker is not None
    end(first, first.seeker, "finished")
    end(second, second.seeker, "leave")
    now = timezone.now()
    Conversation.objects.filter(pk=first.pk).update(
        started_at=now - timedelta(minutes=10), ended_at=now
    )
    Conversation.objects.filter(pk=second.pk).update(
        started_at=now - timedelta(minutes=20), ended_at=now
    )
    alice_client.post("/surveys/post-chat/", seeker_post_answers(final_emotion_intensity="2"))
    payments.export_payments_to_string(run, worker_ids=[first.seeker_id])
    arrive(Client(), run, "seeker", "erin")
    return run


def test_it_counts_workers_conversations_intensities_and_pay(busy_run: CollectionRun) -> None:
    board = run_dashboard(busy_run)

    assert board.workers_total == 5
    table = {row["code"]: (row["seeker"], row["supporter"]) for row in board.status_table()}
    assert table == {"": (1, 0), "00": (0, 0), "01": (1, 0), "02": (0, 1), "03": (1, 1)}
    stages = {row["stage"]: (row["seeker"], row["supporter"]) for row in board.stage_table()}
    assert stages["Done"] == (2, 0)
    assert stages["Filling the post-chat survey"] == (0, 2)
    assert stages["Filling the pre-chat survey"] == (1, 0)
    assert board.by_state_quality == {("ended", "pending"): 2}
    assert board.average_utterances == pytest.approx(3.0)
    assert board.average_duration == timedelta(minutes=15)
    assert board.surveyed_conversations == 1
    assert board.mean_intensity_before == pytest.approx(4.0)
    assert board.mean_intensity_after == pytest.approx(2.0)
    # Paid: Alice 03 (10.00). Owed: Bob 03 (10.00) + Carol 01 (1.00) + Dave 02 (10.00).
    assert (board.pay_paid, board.workers_paid) == (Decimal("10.00"), 1)
    assert (board.pay_owed, board.workers_owed) == (Decimal("21.00"), 3)


def test_it_uses_a_fixed_number_of_queries(
    busy_run: CollectionRun, django_assert_max_num_queries: object
) -> None:
    with django_assert_max_num_queries(7):  # type: ignore[operator]
        run_dashboard(busy_run)


def test_it_shows_the_page_to_staff_only(busy_run: CollectionRun, alice_client: Client) -> None:
    url = f"/runs/{busy_run.name}/dashboard/"
    # Alice is a crowdworker with a session, not staff.
    assert alice_client.get(url)["Location"].startswith("/admin/login/")
    staff = Client()
    staff.force_login(User.objects.create_user("reviewer", is_staff=True))

    body = staff.get(url).content.decode()

    assert 'data-testid="workers-total">5<' in body
    assert "4.00 → 2.00" in body
    assert "21.00 GBP" in body
    assert "15.0 min" in body
    assert staff.get("/runs/nope/dashboard/").status_code == 404


def test_it_links_the_dashboard_from_the_run_admin(busy_run: CollectionRun) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    body = staff.get("/admin/crowd/collectionrun/").content.decode()
    assert f'href="/runs/{busy_run.name}/dashboard/"' in body


def test_it_ignores_other_runs(busy_run: CollectionRun) -> None:
    other = make_run("other")
    assert run_dashboard(other).workers_total == 0
    assert Worker.objects.filter(run=busy_run).count() == 5
