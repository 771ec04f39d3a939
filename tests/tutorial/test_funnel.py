"""The staff funnel: supporters started/passed/failed/in training, per part and per item."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from tests.cast import ALICE, BOB, DAVE, FRANK, RITA, SAM, account, extra
from tests.crowd.factories import enter, make_run, rejoin
from tests.tutorial.factories import take_attempt
from tests.tutorial.helpers import answer_all, drawn, post_answer, wrong
from tutorial import funnel as funnel_module
from tutorial import services
from tutorial.models import AttemptItem, QuizItem
from tutorial.selectors import funnel

pytestmark = pytest.mark.django_db


def _population(run: CollectionRun) -> None:
    """Bob passes; Frank fails twice (part 2 wrong each time); Sam is mid-way; Alice seeks."""
    bob = Client()
    enter(BOB, run, client=bob)
    answer_all(bob)
    bob.post("/tutorial/submit/")
    frank = Client()
    enter(FRANK, run, client=frank)
    for _ in range(2):
        answer_all(frank, wrong_parts={2})
        frank.post("/tutorial/submit/")
        frank.post("/tutorial/retry/")
    sam = Client()
    sam_worker = enter(SAM, run, client=sam)
    sam.get("/tutorial/")
    post_answer(sam, 2, wrong(sam_worker, 2))
    enter(ALICE, run, client=Client())
    # Dave opened his link but never consented: not counted as started.
    enter(DAVE, run, client=Client(), consent=False)


def _row(run: CollectionRun) -> funnel_module.RunFunnel:
    (row,) = [f for f in funnel() if f.run == run]
    return row


def test_it_counts_the_funnel_and_each_parts_error_rate(content) -> None:
    run = make_run("main-study")
    _population(run)

    row = _row(run)

    assert (row.started, row.passed, row.failed, row.in_training) == (3, 1, 1, 1)
    assert row.pass_rate == 0.5
    question_2 = row.questions[1]
    # Frank twice wrong, Sam wrong, Bob right: 3 of 4, whichever items they drew.
    assert (question_2.answered, question_2.wrong) == (4, 3)
    assert question_2.error_rate == 0.75
    assert (row.questions[0].answered, row.questions[0].wrong) == (3, 0)
    assert row.questions[0].error_rate == 0.0
    assert sum(i.answered for i in question_2.items) == 4


def test_it_shows_the_right_rate_of_every_item_variant(content) -> None:
    run = make_run("items")
    # Twelve supporters; whoever draws exploration-2 answers it wrongly, everyone else right.
    for number in range(12):
        worker = enter(extra(vocabulary.SUPPORTER, number), run)
        services.open_first_attempt(worker)
        key = drawn(worker, 1).item.key
        take_attempt(worker, wrong_parts={1} if key == "exploration-2" else set())
    shown = Counter(
        AttemptItem.objects.filter(attempt__worker__run=run, subtask=content[0]).values_list(
            "item__key", flat=True
        )
    )

    items = {i.key: i for i in _row(run).questions[0].items}

    assert set(items) == {"exploration-1", "exploration-2", "exploration-3"}
    assert len(shown) >= 2  # all twelve on one item: odds of about 1 in 180,000
    for key, stats in items.items():
        assert stats.answered == shown[key]
        assert stats.right == (0 if key == "exploration-2" else shown[key])
        assert stats.right_rate == (None if not shown[key] else stats.right / shown[key])


def test_it_marks_an_item_much_harder_than_its_bank(content) -> None:
    run = make_run("weak")
    weak = QuizItem.objects.get(key="question-3")
    QuizItem.objects.filter(subtask=content[1]).exclude(pk=weak.pk).update(is_active=False)
    # Only question-3 can be drawn for part 2: 10 answers, 2 right...
    for number in range(10):
        worker = enter(extra(vocabulary.SUPPORTER, number), run)
        take_attempt(worker, wrong_parts={2} if number >= 2 else set())
    # ...then the bank is whole again and 10 supporters answer the other items right.
    QuizItem.objects.filter(subtask=content[1]).update(is_active=True)
    QuizItem.objects.filter(pk=weak.pk).update(is_active=False)
    for number in range(10, 20):
        worker = enter(extra(vocabulary.SUPPORTER, number), run)
        take_attempt(worker)

    items = {i.key: i for i in _row(run).questions[1].items}

    assert (items["question-3"].answered, items["question-3"].right) == (10, 2)
    assert items["question-3"].weak and not items["question-3"].is_active
    assert not items["question-1"].weak and not items["question-2"].weak


def test_it_separates_runs_and_uses_a_fixed_number_of_queries(content) -> None:
    main = make_run("main-study")
    pilot = make_run("pilot")
    with CaptureQueriesContext(connection) as empty:
        funnel()
    _population(main)
    with CaptureQueriesContext(connection) as full:
        rows = {f.run.name: f for f in funnel()}
    assert len(full.captured_queries) == len(empty.captured_queries) <= 4
    assert rows[pilot.name].started == 0 and rows[pilot.name].questions[1].error_rate is None
    assert rows[main.name].started == 3


def test_it_shows_the_page_to_staff_only(content, rita_client, otto_client) -> None:
    run = make_run("main-study")
    _population(run)

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
    assert "75%</span> wrong" in page
    for key in QuizItem.objects.values_list("key", flat=True):
        assert f'data-testid="item-{key}"' in page
    account(RITA).user_permissions.add(Permission.objects.get(codename="view_subtask"))
    admin_list = researcher.get("/admin/tutorial/subtask/").content.decode()
    assert 'href="/tutorial/funnel/"' in admin_list
