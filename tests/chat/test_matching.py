"""Matching: one seeker with one qualified supporter, oldest first, atomically, and release."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chat import matching, tasks
from chat.models import Conversation
from crowd.models import Worker
from crowd.services import enter_waiting_room
from tests.cast import ALICE, BOB, CAROL, DAVE, ERIN, GUS, extra
from tests.crowd.factories import enter, make_run
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import trained_supporter


def _age(worker: Worker, seconds: int) -> None:
    """The worker entered the waiting room `seconds` ago (the clock moved back)."""
    Worker.objects.filter(pk=worker.pk).update(
        waiting_since=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.mark.django_db
def test_it_pairs_the_oldest_seeker_with_the_oldest_supporter_and_copies_the_survey() -> None:
    run = make_run()
    newer_seeker = waiting_seeker(ALICE, run)
    older_seeker = waiting_seeker(CAROL, run)
    _age(older_seeker, 60)
    newer_supporter = trained_supporter(BOB, run)
    older_supporter = trained_supporter(DAVE, run)
    _age(older_supporter, 30)

    assert matching.match_waiting_workers(run, limit=1) == 1
    conversation = Conversation.objects.get()
    assert (conversation.seeker_id, conversation.supporter_id) == (
        older_seeker.pk,
        older_supporter.pk,
    )
    assert conversation.problem_type == "job crisis"
    assert conversation.emotion_type == "anxiety"
    assert conversation.experience_type == "Current Experience"
    assert conversation.initial_emotion_intensity == 4
    assert conversation.situation.startswith("I lost my job")
    assert conversation.state == "active" and conversation.started_at is not None
    stages = dict(Worker.objects.values_list("external_id", "stage"))
    assert stages == {"carol": "chatting", "dave": "chatting", "alice": "waiting", "bob": "waiting"}
    assert matching.match_waiting_workers(run) == 1
    assert Conversation.objects.filter(seeker=newer_seeker, supporter=newer_supporter).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "qualification",
    [
        Worker.Qualification.IN_TRAINING,
        Worker.Qualification.FAILED,
        Worker.Qualification.NOT_STARTED,
    ],
)
def test_it_never_matches_an_unqualified_supporter(qualification: str) -> None:
    run = make_run()
    waiting_seeker(ALICE, run)
    gus = trained_supporter(GUS, run)
    # Staff change his qualification in the worker admin (no service does) while he waits.
    Worker.objects.filter(pk=gus.pk).update(qualification=qualification)
    assert matching.match_waiting_workers(run) == 0
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_it_never_matches_a_seeker_without_a_pre_chat_survey() -> None:
    run = make_run()
    # Erin consented and was put in the waiting room without her survey (no page does this).
    erin = enter_waiting_room(enter(ERIN, run))
    trained_supporter(BOB, run)
    assert matching.match_waiting_workers(run) == 0
    assert Worker.objects.get(pk=erin.pk).stage == "waiting"


@pytest.mark.django_db
def test_it_never_matches_across_runs() -> None:
    waiting_seeker(ALICE, make_run())
    trained_supporter(BOB, make_run())
    for run in Worker.objects.values_list("run", flat=True):
        assert matching.match_waiting_workers(Worker.objects.filter(run=run).first().run) == 0


@pytest.mark.django_db
def test_it_releases_a_worker_who_waited_too_long_when_the_page_polls() -> None:
    run = make_run(max_wait_seconds=60)
    erin = waiting_seeker(ERIN, run)
    state = matching.poll_waiting_room(erin)
    assert (state.state, state.next_url) == ("waiting", "/chat/waiting/")
    _age(erin, 61)
    state = matching.poll_waiting_room(erin)
    assert (state.state, state.next_url) == ("released", "/done/")
    erin.refresh_from_db()
    assert (erin.stage, erin.status_code) == ("done", "02")
    assert erin.pay_total == run.base_pay * run.bonus


@pytest.mark.django_db
def test_it_matches_instead_of_releasing_when_a_partner_is_there() -> None:
    run = make_run(max_wait_seconds=60)
    alice = waiting_seeker(ALICE, run)
    _age(alice, 61)
    trained_supporter(BOB, run)
    state = matching.poll_waiting_room(alice)
    assert (state.state, state.next_url) == ("matched", "/chat/room/")


@pytest.mark.django_db
def test_the_periodic_task_releases_stale_workers_nobody_polls() -> None:
    run = make_run(max_wait_seconds=60)
    stale = trained_supporter(GUS, run)
    fresh = trained_supporter(BOB, run)
    _age(stale, 600)
    assert tasks.release_stale_waiting_workers.delay().get() == 1
    assert tasks.release_stale_waiting_workers.delay().get() == 0  # safe to run twice
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.stage, stale.status_code) == ("done", "02")
    assert (fresh.stage, fresh.status_code) == ("waiting", "")


@pytest.mark.django_db(transaction=True)
def test_it_pairs_everyone_exactly_once_when_many_arrive_at_once() -> None:
    """40 workers polling from 40 threads at the same moment: all paired, nobody twice."""
    run = make_run()
    workers = [waiting_seeker(extra("seeker", n), run) for n in range(20)]
    workers += [trained_supporter(extra("supporter", n), run) for n in range(20)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def arrive(worker: Worker) -> None:
        try:
            barrier.wait()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if matching.poll_waiting_room(worker).state != "waiting":
                    return
                time.sleep(0.05)
            raise AssertionError(f"{worker} was never matched")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=arrive, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conversations = list(Conversation.objects.values_list("seeker_id", "supporter_id"))
    assert len(conversations) == 20
    seekers = [s for s, _ in conversations]
    supporters = [p for _, p in conversations]
    assert len(set(seekers)) == 20 and len(set(supporters)) == 20
    assert set(seekers) == {w.pk for w in workers[:20]}
    assert set(supporters) == {w.pk for w in workers[20:]}
    assert all(s != p for s, p in conversations)
    assert set(Worker.objects.values_list("stage", flat=True)) == {"chatting"}
