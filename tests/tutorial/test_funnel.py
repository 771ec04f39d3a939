"""The staff funnel: supporters started/passed/failed/in training and each question's error rate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crowd.models import CollectionRun
from tests.tutorial.helpers import answer_all
from tutorial.selectors import funnel

pytestmark = pytest.mark.django_db


def _population(enter, content) -> None:
    """alice passes; bob fails twice (part 2 wrong each time); carol is mid-way; sam seeks."""
    alice, _ = enter("alice")
    answer_all(alice, content)
    alice.post("/tutorial/submit/")
    bob, _ = enter("bob")
    for _ in range(2):
        answer_all(bob, content, wrong_parts=frozenset({2}))
        bob.post("/tutorial/submit/")
        bob.post("/tutorial/retry/")
    carol, _ = enter("carol")
    carol.post(
        "/tutorial/2/", {"option": str((content[1].correct_option + 1) % len(content[1].options))}
    )
    enter("sam", role="seeker")
    # dave opened his link but never consented: not counted as started.
    Client().get("/start/?role=supporter&PROLIFIC_PID=dave")


def test_it_counts_the_funnel_and_error_rates(enter, content, run) -> None:
    _population(enter, content)

    (row,) = [f for f in funnel() if f.run == run]

    assert (row.started, row.passed, row.failed, row.in_training) == (3, 1, 1, 1)
    assert row.pass_rate == 0.5
    question_2 = row.questions[1]
    # bob twice wrong, carol wrong, alice right: 3 of 4.
    assert (question_2.answered, question_2.wrong) == (4, 3)
    assert question_2.error_rate == 0.75
    assert (row.questions[0].answered, row.questions[0].wrong) == (3, 0)
    assert row.questions[0].error_rate == 0.0


def test_it_separates_runs_and_uses_a_fixed_number_of_queries(enter, content, run) -> None:
    CollectionRun.objects.create(name="pilot")
    with CaptureQueriesContext(connection) as empty:
        funnel()
    _population(enter, content)
    with CaptureQueriesContext(connection) as full:
        rows = {f.run.name: f for f in funnel()}
    assert len(full.captured_queries) == len(empty.captured_queries) <= 4
    assert rows["pilot"].started == 0 and rows["pilot"].questions[1].error_rate is None
    assert rows[run.name].started == 3


def test_it_shows_the_page_to_staff_only(enter, content, run) -> None:
    _population(enter, content)
    staff = User.objects.create_user("rita", is_staff=True)
    otto = User.objects.create_user("otto")

    anonymous = Client().get("/tutorial/funnel/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    outsider = Client()
    outsider.force_login(otto)
    assert outsider.get("/tutorial/funnel/").status_code == 302
    worker_client, _ = enter("alice")
    assert worker_client.get("/tutorial/funnel/").status_code == 302

    researcher = Client()
    researcher.force_login(staff)
    page = researcher.get("/tutorial/funnel/").content.decode()
    assert '<dd data-testid="started">3</dd>' in page
    assert '<dd data-testid="passed">1</dd>' in page
    assert '<dd data-testid="failed">1</dd>' in page
    assert '<dd data-testid="in-training">1</dd>' in page
    assert "75%" in page
    staff.user_permissions.add(Permission.objects.get(codename="view_subtask"))
    admin_list = researcher.get("/admin/tutorial/subtask/").content.decode()
    assert 'href="/tutorial/funnel/"' in admin_list
