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
from tests.chat.conftest import make_run, make_supporter, make_waiting_seeker


def _age(worker: Worker, seconds: int) -> None:
    Worker.objects.filter(pk=worker.pk).update(
        waiting_since=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.mark.django_db
def test_it_pairs_the_oldest_seeker_with_the_oldest_supporter_and_copies_the_survey() -> None:
    run = make_run()
    newer_seeker = make_waiting_seeker(run, "sam-newer")
    older_seeker = make_waiting_seeker(run, "sue-older")
    _age(older_seeker, 60)
    newer_supporter = make_supporter(run, "alice-newer")
    older_supporter = make_supporter(run, "ann-older")
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
    assert stages == {
        "sue-older": "chatting",
        "ann-older": "chatting",
        "sam-newer": "waiting",
        "alice-newer": "waiting",
    }
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
    make_waiting_seeker(run)
    make_supporter(run, "bob-unqualified", qualification)
    assert matching.match_waiting_workers(run) == 0
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_it_never_matches_a_seeker_without_a_pre_chat_survey() -> None:
    from crowd.services import enter_waiting_room
    from tests.chat.conftest import _worker

    run = make_run()
    seeker = enter_waiting_room(_worker(run, "seeker", "sid-no-survey"))
    make_supporter(run)
    assert matching.match_waiting_workers(run) == 0
    assert Worker.objects.get(pk=seeker.pk).stage == "waiting"


@pytest.mark.django_db
def test_it_never_matches_across_runs() -> None:
    make_waiting_seeker(make_run())
    make_supporter(make_run())
    for run in Worker.objects.values_list("run", flat=True):
        assert matching.match_waiting_workers(Worker.objects.filter(run=run).first().run) == 0


@pytest.mark.django_db
def test_it_releases_a_worker_who_waited_too_long_when_the_page_polls() -> None:
    run = make_run(max_wait_seconds=60)
    seeker = make_waiting_seeker(run)
    state = matching.poll_waiting_room(seeker)
    assert (state.state, state.next_url) == ("waiting", "/chat/waiting/")
    _age(seeker, 61)
    state = matching.poll_waiting_room(seeker)
    assert (state.state, state.next_url) == ("released", "/done/")
    seeker.refresh_from_db()
    assert (seeker.stage, seeker.status_code) == ("done", "02")
    assert seeker.pay_total == run.base_pay * run.bonus


@pytest.mark.django_db
def test_it_matches_instead_of_releasing_when_a_partner_is_there() -> None:
    run = make_run(max_wait_seconds=60)
    seeker = make_waiting_seeker(run)
    _age(seeker, 61)
    make_supporter(run)
    state = matching.poll_waiting_room(seeker)
    assert (state.state, state.next_url) == ("matched", "/chat/room/")


@pytest.mark.django_db
def test_the_periodic_task_releases_stale_workers_nobody_polls() -> None:
    run = make_run(max_wait_seconds=60)
    stale = make_supporter(run, "alice-stale")
    fresh = make_supporter(run, "ann-fresh")
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
    workers = [make_waiting_seeker(run, f"seeker-{n}") for n in range(20)]
    workers += [make_supporter(run, f"supporter-{n}") for n in range(20)]
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
