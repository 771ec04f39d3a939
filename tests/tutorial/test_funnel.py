"""The staff funnel: supporters started/passed/failed/in training and each question's error rate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crowd.models import Worker
from tests.cast import ALICE, BOB, DAVE, FRANK, RITA, SAM, account
from tests.crowd.factories import enter, make_run, rejoin
from tests.tutorial.helpers import answer_all
from tutorial.selectors import funnel

pytestmark = pytest.mark.django_db


def _population(content) -> None:
    """Bob passes; Frank fails twice (part 2 wrong each time); Sam is mid-way; Alice seeks."""
    bob = Client()
    enter(BOB, client=bob)
    answer_all(bob, content)
    bob.post("/tutorial/submit/")
    frank = Client()
    enter(FRANK, client=frank)
    for _ in range(2):
        answer_all(frank, content, wrong_parts=frozenset({2}))
        frank.post("/tutorial/submit/")
        frank.post("/tutorial/retry/")
    sam = Client()
    enter(SAM, client=sam)
    sam.post(
        "/tutorial/2/", {"option": str((content[1].correct_option + 1) % len(content[1].options))}
    )
    enter(ALICE, client=Client())
    # Dave opened his link but never consented: not counted as started.
    enter(DAVE, client=Client(), consent=False)


def test_it_counts_the_funnel_and_error_rates(content, run) -> None:
    _population(content)

    (row,) = [f for f in funnel() if f.run == run]

    assert (row.started, row.passed, row.failed, row.in_training) == (3, 1, 1, 1)
    assert row.pass_rate == 0.5
    question_2 = row.questions[1]
    # Frank twice wrong, Sam wrong, Bob right: 3 of 4.
    assert (question_2.answered, question_2.wrong) == (4, 3)
    assert question_2.error_rate == 0.75
    assert (row.questions[0].answered, row.questions[0].wrong) == (3, 0)
    assert row.questions[0].error_rate == 0.0


def test_it_separates_runs_and_uses_a_fixed_number_of_queries(content, run) -> None:
    make_run("pilot")
    with CaptureQueriesContext(connection) as empty:
        funnel()
    _population(content)
    with CaptureQueriesContext(connection) as full:
        rows = {f.run.name: f for f in funnel()}
    assert len(full.captured_queries) == len(empty.captured_queries) <= 4
    assert rows["pilot"].started == 0 and rows["pilot"].questions[1].error_rate is None
    assert rows[run.name].started == 3


def test_it_shows_the_page_to_staff_only(content, run, rita_client, otto_client) -> None:
    _population(content)

    anonymous = Client().get("/tutorial/funnel/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert otto_client.get("/tutorial/funnel/").status_code == 302
    worker_client = rejoin(Client(), Worker.objects.get(external_id=BOB.pid))
    assert worker_client.get("/tutorial/funnel/").status_code == 302

    researcher = rita_client
    page = researcher.get("/tutorial/funnel/").content.decode()
    assert '<dd data-testid="started">3</dd>' in page
    assert '<dd data-testid="passed">1</dd>' in page
    assert '<dd data-testid="failed">1</dd>' in page
    assert '<dd data-testid="in-training">1</dd>' in page
    assert "75%" in page
    account(RITA).user_permissions.add(Permission.objects.get(codename="view_subtask"))
    admin_list = researcher.get("/admin/tutorial/subtask/").content.decode()
    assert 'href="/tutorial/funnel/"' in admin_list
