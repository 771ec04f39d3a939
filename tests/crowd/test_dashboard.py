"""The run dashboard: counts by role, status and stage, chat length, intensities, pay."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from crowd import payments
from crowd.dashboard import run_dashboard
from crowd.models import CollectionRun, TaskOutcome, Worker
from crowd.services import finish_worker
from tests.cast import ALICE, CAROL, DAVE, ERIN
from tests.chat.factories import end, make_pair, set_times, talk
from tests.crowd.factories import enter, make_run, quick_run
from tests.surveys.factories import seeker_post_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_run(
    alice_client: Client, bob_client: Client, carol_client: Client, dave_client: Client
) -> CollectionRun:
    """Alice+Bob: 4 messages, finished, 10 minutes, Alice rated 4 then 2 and was paid.
    Carol+Dave: 2 messages, Carol left after 20 minutes. Erin: a seeker still at the survey."""
    run = quick_run(base_pay=Decimal("1.00"), bonus=Decimal("1.00"))
    first = make_pair(run, seeker_client=alice_client, supporter_client=bob_client)
    second = make_pair(
        run, seeker=CAROL, supporter=DAVE, seeker_client=carol_client, supporter_client=dave_client
    )
    talk(first, 4)
    talk(second, 2)
    end(first, first.seeker, "finished")
    end(second, second.seeker, "leave")
    # Both chats were built (and ended) just now: moved back to last 10 and 20 minutes.
    now = timezone.now()
    set_times(first.conversation, started_at=now - timedelta(minutes=10), ended_at=now)
    set_times(second.conversation, started_at=now - timedelta(minutes=20), ended_at=now)
    alice_client.post("/surveys/post-chat/", seeker_post_answers(final_emotion_intensity="2"))
    payments.export_payments_to_string(run, worker_ids=[first.seeker.pk])
    enter(ERIN, run)
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


def test_it_uses_a_fixed_number_of_queries(  # one per figure, consent versions included
    busy_run: CollectionRun, django_assert_max_num_queries: object
) -> None:
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        run_dashboard(busy_run)


def test_it_shows_the_page_to_staff_only(
    busy_run: CollectionRun, alice_client: Client, rita_client: Client, otto_client: Client
) -> None:
    url = f"/runs/{busy_run.name}/dashboard/"
    # Alice is a crowdworker with a session, not staff; Otto is logged in but not staff.
    assert alice_client.get(url)["Location"].startswith("/admin/login/")
    assert otto_client.get(url)["Location"].startswith("/admin/login/")

    body = rita_client.get(url).content.decode()

    assert 'data-testid="workers-total">5<' in body
    assert "4.00 → 2.00" in body
    assert "21.00 GBP" in body
    assert "15.0 min" in body
    assert rita_client.get("/runs/nope/dashboard/").status_code == 404


def test_it_links_the_dashboard_from_the_run_admin(
    busy_run: CollectionRun, ada_client: Client
) -> None:
    body = ada_client.get("/admin/crowd/collectionrun/").content.decode()
    assert f'href="/runs/{busy_run.name}/dashboard/"' in body


def test_it_ignores_other_runs(busy_run: CollectionRun) -> None:
    other = quick_run("other")
    assert run_dashboard(other).workers_total == 0
    assert Worker.objects.filter(run=busy_run).count() == 5


def test_a_demo_run_s_dashboard_owes_nobody(rita_client: Client) -> None:
    run = make_run("try-out", is_demo=True, study="demo-2")
    finish_worker(enter(ALICE, run), TaskOutcome.LEFT_EARLY, post_survey=False)
    page = rita_client.get(f"/runs/{run.name}/dashboard/").content.decode()
    assert "none (a demo run is never paid)" in page
