"""The waiting room: pairing seekers with supporters, and releasing who waited too long.

See docs/protocol.md, "Waiting room and matching".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from chat import selectors
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.services import TaskOutcome, finish_worker
from crowd.stages import stage_url
from quality.models import Flag
from surveys.models import PreChatSurvey

# Pairs made by one poll of the waiting room (each pair is its own short transaction).
MATCHES_PER_POLL = 20


def _waiting(run: CollectionRun, role: str) -> QuerySet[Worker]:
    """The workers of a role who wait and may enter a chat (selectors.may_enter_chat, set-wise)."""
    workers = Worker.objects.filter(run=run, role=role, stage=Worker.Stage.WAITING)
    if role == vocabulary.SUPPORTER:
        return workers.qualified_supporters()
    return workers.filter(Exists(PreChatSurvey.objects.filter(worker=OuterRef("pk"))))


def _claim_oldest(workers: QuerySet[Worker]) -> Worker | None:
    # SKIP LOCKED: concurrent matchers on other processes take the next-oldest instead of
    # waiting for (or double-booking) a row someone else is pairing right now.
    return (
        workers.select_for_update(skip_locked=True)
        .order_by(F("waiting_since").asc(nulls_last=True), "pk")
        .first()
    )


def start_conversation(
    run: CollectionRun, seeker: Worker, supporter: Worker | None
) -> Conversation:
    """A conversation starting now, the seeker's pre-chat survey copied onto it; without a
    supporter worker a model is the supporter (evaluation.flow)."""
    survey = PreChatSurvey.objects.get(worker=seeker)
    return Conversation.objects.create(
        run=run,
        seeker=seeker,
        supporter=supporter,
        experience_type=survey.experience_type,
        emotion_type=survey.emotion_type,
        problem_type=survey.problem_type,
        situation=survey.situation,
        initial_emotion_intensity=survey.initial_emotion_intensity,
        started_at=timezone.now(),
    )


def _match_one_pair(run: CollectionRun) -> Conversation | None:
    # Simulated workers (a rehearsal, docs/rehearsal.md) are paired only with each other, so
    # a rehearsal beside a live collection never gives a real worker a simulated partner.
    for simulated in (False, True):
        conversation = _match_among(run, simulated)
        if conversation is not None:
            return conversation
    return None


def _match_among(run: CollectionRun, simulated: bool) -> Conversation | None:
    with transaction.atomic():
        seeker = _claim_oldest(_waiting(run, vocabulary.SEEKER).filter(simulated=simulated))
        if seeker is None:
            return None
        supporters = _waiting(run, vocabulary.SUPPORTER).filter(simulated=simulated)
        supporters = supporters.exclude(pk=seeker.pk)
        if seeker.device_key:
            # Two tasks held by one browser are one person playing both sides.
            supporters = supporters.exclude(device_key=seeker.device_key)
        supporter = _claim_oldest(supporters)
        if supporter is None:
            return None
        # The rows are locked, but the conditional UPDATE keeps the rule true on any backend.
        claimed = Worker.objects.filter(
            pk__in=[seeker.pk, supporter.pk], stage=Worker.Stage.WAITING
        ).update(stage=Worker.Stage.CHATTING)
        if claimed != 2:
            transaction.set_rollback(True)
            return None
        conversation = start_conversation(run, seeker, supporter)
        if seeker.network_key and seeker.network_key == supporter.network_key:
            # Colleagues share an office address, so this is only worth a reviewer's look.
            Flag.objects.create(
                conversation=conversation,
                kind=Flag.Kind.SAME_NETWORK,
                detail="The seeker and the supporter entered from the same network address.",
            )
        return conversation


def match_waiting_workers(run: CollectionRun, *, limit: int = MATCHES_PER_POLL) -> int:
    """Pair the oldest waiting seeker with the oldest waiting supporter, repeatedly.

    Safe to run from many processes at once: no worker is paired twice or with themselves.
    Returns how many conversations were started.
    """
    started = 0
    while started < limit and _match_one_pair(run) is not None:
        started += 1
    return started


def release_from_waiting(worker: Worker) -> bool:
    """Release a worker who waited longer than the run allows (status 02, fair pay).

    Claims the worker with a conditional UPDATE so a concurrent match wins or loses cleanly.
    """
    cutoff = timezone.now() - timedelta(seconds=worker.run.max_wait_seconds)
    with transaction.atomic():
        claimed = Worker.objects.filter(
            pk=worker.pk, stage=Worker.Stage.WAITING, waiting_since__lte=cutoff
        ).update(stage=Worker.Stage.DONE)
        if not claimed:
            return False
        finish_worker(worker, TaskOutcome.RELEASED_FROM_WAITING, post_survey=False)
    return True


@dataclass(frozen=True)
class WaitingState:
    state: str  # "waiting", "matched", "released" or "elsewhere"
    waited_s: int
    max_wait_s: int
    next_url: str


def _state_of(worker: Worker) -> str:
    if worker.stage == Worker.Stage.WAITING:
        return "waiting"
    if worker.stage == Worker.Stage.CHATTING:
        return "matched"
    if worker.stage == Worker.Stage.DONE and selectors.current_conversation(worker) is None:
        return "released"
    return "elsewhere"


def poll_waiting_room(worker: Worker) -> WaitingState:
    """One poll of the waiting page: try to match, release after too long, say where to go."""
    worker.refresh_from_db()
    if worker.stage == Worker.Stage.WAITING and not selectors.chat_refused(worker):
        match_waiting_workers(worker.run)
        worker.refresh_from_db()
        if worker.stage == Worker.Stage.WAITING:
            release_from_waiting(worker)
            worker.refresh_from_db()
    since = worker.waiting_since
    waited = int((timezone.now() - since).total_seconds()) if since else 0
    return WaitingState(
        state=_state_of(worker),
        waited_s=max(0, waited),
        max_wait_s=worker.run.max_wait_seconds,
        next_url=stage_url(worker),
    )


def release_stale_waiting_workers() -> int:
    """Periodic sweep: match whoever can be matched, then release who waited too long."""
    released = 0
    for run in CollectionRun.objects.filter(workers__stage=Worker.Stage.WAITING).distinct():
        match_waiting_workers(run, limit=1000)
        cutoff = timezone.now() - timedelta(seconds=run.max_wait_seconds)
        stale = Worker.objects.filter(
            run=run, stage=Worker.Stage.WAITING, waiting_since__lte=cutoff
        ).select_related("run")
        for worker in stale:
            released += release_from_waiting(worker)
    return released
