"""A seeker's evaluation, from the pre-chat survey to the comparison (docs/evaluation.md).

After the pre-chat survey the seeker goes straight to a chat with the backend drawn to come
first: no waiting room, no human partner. When that backend has written `turns` replies the
chat ends and the second begins, on the same page. After the second the seeker compares the
two. Every way a chat with a model can end goes through chat.endings.close, which hands it to
`leg_ended` here (through the `model_chat_ended` signal) instead of finishing a supporter.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from chat.matching import start_conversation
from chat.models import Conversation
from chat.signals import model_chat_ended
from crowd import services as crowd_services
from crowd.models import CollectionRun, Worker
from crowd.services import TaskOutcome
from evaluation.models import (
    QUESTIONS,
    A,
    B,
    Comparison,
    Evaluation,
    EvaluationLeg,
    EvaluationSession,
    SupporterBackend,
)

EndReason = Conversation.EndReason


class EvaluationError(Exception):
    """Something a seeker cannot do in an evaluation now; the message says why."""


def evaluation_of(run: CollectionRun) -> Evaluation | None:
    return Evaluation.objects.select_related("backend_a", "backend_b").filter(run_id=run.pk).first()


def other_slot(slot: str) -> str:
    return B if slot == A else A


def backend_of(evaluation: Evaluation, slot: str) -> SupporterBackend:
    return evaluation.backend_a if slot == A else evaluation.backend_b


def begin(worker: Worker, evaluation: Evaluation) -> EvaluationSession:
    """Draw which backend comes first and start the seeker's first chat (call in a transaction).

    The draw is recorded, and the seeker is never told which backend is which.
    """
    session, created = EvaluationSession.objects.get_or_create(
        worker=worker, defaults={"evaluation": evaluation, "first": secrets.choice((A, B))}
    )
    if created:
        start_leg(session, order=1)
        Worker.objects.filter(pk=worker.pk).update(stage=Worker.Stage.CHATTING)
    return session


def start_leg(session: EvaluationSession, order: int) -> EvaluationLeg:
    """The seeker's chat number `order` with its backend, a conversation of the run."""
    evaluation = session.evaluation
    slot = session.first if order == 1 else other_slot(session.first)
    conversation = start_conversation(evaluation.run, session.worker, None)
    return EvaluationLeg.objects.create(
        session=session,
        conversation=conversation,
        backend=backend_of(evaluation, slot),
        slot=slot,
        order=order,
    )


# How each ending of a chat with a model leaves the seeker: an outcome (status code and pay as
# for any seeker) and whether the comparison follows. A chat that reached its turns is not here:
# the second chat begins, or the comparison after it.
_LEG_OUTCOMES: dict[str, tuple[TaskOutcome, bool]] = {
    EndReason.SEEKER_LEFT: (TaskOutcome.LEFT_EARLY, False),
    EndReason.ABANDONED: (TaskOutcome.LEFT_EARLY, False),
    # The model kept failing, or the seeker reported it silent: not the seeker's fault (02).
    EndReason.BACKEND_FAILED: (TaskOutcome.PARTNER_UNRESPONSIVE, False),
    EndReason.PARTNER_UNRESPONSIVE: (TaskOutcome.PARTNER_UNRESPONSIVE, False),
    # Staff stepped in for the seeker's safety: paid as finished, no comparison asked.
    EndReason.STAFF_ENDED: (TaskOutcome.FINISHED, False),
}


@receiver(model_chat_ended)
def leg_ended(sender: Any, conversation: Conversation, end_reason: str, **_: Any) -> None:
    """What comes after a chat with a model (inside the ending's transaction)."""
    leg = (
        EvaluationLeg.objects.select_related("session__evaluation", "session__worker")
        .filter(conversation_id=conversation.pk)
        .first()
    )
    if leg is None or conversation.seeker_id is None:
        return
    worker = leg.session.worker
    if end_reason in (EndReason.EVALUATED, EndReason.FINISHED):
        if leg.order == 1:
            start_leg(leg.session, order=2)
            return
        crowd_services.finish_worker(worker, TaskOutcome.FINISHED, post_survey=True)
        return
    outcome, compare = _LEG_OUTCOMES.get(end_reason, (TaskOutcome.LEFT_EARLY, False))
    crowd_services.finish_worker(worker, outcome, post_survey=compare)


def session_to_compare(worker: Worker) -> EvaluationSession:
    """The seeker's session whose two chats are over and not compared yet."""
    session = (
        EvaluationSession.objects.select_related("evaluation").filter(worker_id=worker.pk).first()
    )
    if session is None or worker.stage != Worker.Stage.POST_SURVEY:
        raise EvaluationError("There is no pair of conversations to compare now.")
    if Comparison.objects.filter(session=session).exists():
        raise EvaluationError("You have already compared the two conversations.")
    return session


def to_slots(session: EvaluationSession, answers: dict[str, str]) -> dict[str, str]:
    """The seeker's answers by chat ("first", "second", "tie") as backends ("a", "b", "tie")."""
    second = other_slot(session.first)
    by_chat = {"first": session.first, "second": second, "tie": Comparison.Choice.TIE}
    return {question: by_chat[answers[question]] for question in QUESTIONS}


def compare(worker: Worker, answers: dict[str, str], now: datetime | None = None) -> Comparison:
    """Store the comparison (answers by chat: first / second / tie) and end the task."""
    missing = [q for q in QUESTIONS if answers.get(q) not in ("first", "second", "tie")]
    if missing:
        raise EvaluationError(f"Answer every question: {', '.join(missing)}.")
    with transaction.atomic():
        locked = Worker.objects.select_for_update().get(pk=worker.pk)
        session = session_to_compare(locked)
        comparison = Comparison.objects.create(session=session, **to_slots(session, answers))
        EvaluationSession.objects.filter(pk=session.pk).update(completed_at=now or timezone.now())
        crowd_services.complete_task(locked)
    return comparison
