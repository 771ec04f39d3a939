"""Every attempt draws a fresh item per sub-task and shuffles its options, and keeps both."""

from __future__ import annotations

from collections import Counter

import pytest

from crowd import vocabulary
from tests.cast import FRANK, SAM, extra
from tests.crowd.factories import enter, make_run
from tests.tutorial.factories import take_attempt
from tests.tutorial.helpers import drawn, right
from tutorial import services
from tutorial.models import AttemptItem, QuizAnswer, QuizItem

pytestmark = pytest.mark.django_db


def _items(attempt) -> dict[int, int]:
    return dict(attempt.drawn.values_list("subtask_id", "item_id"))


def test_each_attempt_draws_items_the_worker_has_not_seen(content) -> None:
    run = make_run("three-tries", quiz_max_attempts=3)
    frank = enter(FRANK, run)
    attempt = services.open_first_attempt(frank)
    seen = []
    for number in (1, 2, 3):
        if number > 1:
            attempt = services.start_next_attempt(frank)
        seen.append(_items(attempt))
        assert len(seen[-1]) == 11
        take_attempt(frank, wrong_parts={1})
    for subtask in content:
        # Three attempts, banks of three: three different questions on every part.
        assert len({attempt[subtask.pk] for attempt in seen}) == 3


def test_a_small_bank_avoids_the_previous_attempts_item_then_reuses(content) -> None:
    run = make_run("small-bank", quiz_max_attempts=3)
    frank = enter(FRANK, run)
    exploration = content[0]
    first = services.open_first_attempt(frank)
    used = _items(first)[exploration.pk]
    # Staff retire one item of the bank: two are left, one of them seen in attempt 1.
    retired = QuizItem.objects.filter(subtask=exploration).exclude(pk=used).order_by("pk").first()
    QuizItem.objects.filter(pk=retired.pk).update(is_active=False)
    take_attempt(frank, wrong_parts={2})
    second = _items(services.start_next_attempt(frank))[exploration.pk]
    take_attempt(frank, wrong_parts={2})
    third = _items(services.start_next_attempt(frank))[exploration.pk]
    assert second not in (used, retired.pk)
    # Nothing unseen is left: never the previous attempt's item, so the first one again.
    assert third == used


def test_a_bank_of_one_active_item_is_reused_rather_than_stopping_the_training(content) -> None:
    frank = enter(FRANK)
    question = content[1]
    first = _items(services.open_first_attempt(frank))[question.pk]
    QuizItem.objects.filter(subtask=question).exclude(pk=first).update(is_active=False)
    take_attempt(frank, wrong_parts={1})
    assert _items(services.start_next_attempt(frank))[question.pk] == first


def test_retired_items_are_never_drawn(content) -> None:
    retired = set(
        QuizItem.objects.filter(key__in=["exploration-1", "question-2", "others-3"]).values_list(
            "pk", flat=True
        )
    )
    QuizItem.objects.filter(pk__in=retired).update(is_active=False)
    for number in range(30):
        worker = enter(extra(vocabulary.SUPPORTER, number))
        assert not retired & set(_items(services.open_first_attempt(worker)).values())


def test_draws_cover_every_item_and_every_position_of_the_right_option(content) -> None:
    items: Counter[int] = Counter()
    places: Counter[int] = Counter()
    orders = set()
    for number in range(60):
        worker = enter(extra(vocabulary.SUPPORTER, number))
        attempt = services.open_first_attempt(worker)
        for shown in attempt.drawn.select_related("item"):
            assert sorted(shown.option_order) == [0, 1, 2, 3]
            items[shown.item_id] += 1
            places[shown.shown_position(shown.item.correct_option)] += 1
            orders.add(tuple(shown.option_order))
    # 60 attempts: every one of the 33 items drawn (a bank's item missed has odds ~1e-10),
    # the right option shown in each of the four places, and many different orders.
    assert set(items) == set(QuizItem.objects.values_list("pk", flat=True))
    assert set(places) == {0, 1, 2, 3} and min(places.values()) > 60
    assert len(orders) >= 20


def test_the_draw_is_kept_for_reloads_and_the_answer_maps_through_it(sam_client, content) -> None:
    sam = enter(SAM, client=sam_client)
    sam_client.get("/tutorial/")
    before = list(
        AttemptItem.objects.filter(attempt__worker=sam).values_list("item", "option_order")
    )
    for _ in range(3):
        sam_client.get("/tutorial/5/")
        sam_client.get("/api/tutorial/")
    after = list(
        AttemptItem.objects.filter(attempt__worker=sam).values_list("item", "option_order")
    )
    assert after == before
    place = right(sam, 5)
    answer = services.answer_question(sam, content[4], place)
    shown = drawn(sam, 5)
    assert (answer.item, answer.option, answer.is_correct) == (
        shown.item,
        shown.item.correct_option,
        True,
    )


def test_an_answer_from_an_old_attempts_page_is_refused(frank_client, content) -> None:
    frank = enter(FRANK, client=frank_client)
    frank_client.get("/tutorial/")
    old_key = drawn(frank, 1).item.key
    take_attempt(frank, wrong_parts={1})
    services.start_next_attempt(frank)
    assert drawn(frank, 1).item.key != old_key

    page = frank_client.post("/tutorial/1/", {"option": "0", "item": old_key}, follow=True)
    api = frank_client.post(
        "/api/tutorial/1/answer/", {"option": 0, "item": old_key}, content_type="application/json"
    )

    assert "no longer the one in your attempt" in page.content.decode()
    assert api.status_code == 409 and "reload the page" in api.json()["detail"]
    assert not QuizAnswer.objects.filter(attempt__worker=frank, attempt__number=2).exists()


def test_a_part_without_an_active_item_makes_the_training_unavailable(sam_client, content) -> None:
    QuizItem.objects.filter(subtask=content[6]).update(is_active=False)
    enter(SAM, client=sam_client)
    assert sam_client.get("/tutorial/").status_code == 503
    assert sam_client.get("/api/tutorial/").status_code == 503
    assert not AttemptItem.objects.exists()
