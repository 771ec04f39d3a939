"""Reads for the chat: who may enter, whose conversation this is, what staff may watch."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from chat import rules
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import Worker
from surveys.models import PreChatSurvey
from tutorial.models import SubTask


def may_enter_chat(worker: Worker) -> bool:
    """The gate of every chat entrance: qualified supporters and surveyed seekers only."""
    if worker.is_supporter:
        return worker.is_qualified_supporter
    return PreChatSurvey.objects.filter(worker=worker).exists()


def chat_refused(worker: Worker) -> bool:
    """The one gate of every chat entrance: waiting page, room, match API and matching.

    A supporter who has not passed the training is refused at any stage; a worker in the
    waiting room is refused unless they may enter a chat.
    """
    if worker.is_supporter and not worker.is_qualified_supporter:
        return True
    return worker.stage == Worker.Stage.WAITING and not may_enter_chat(worker)


def current_conversation(worker: Worker) -> Conversation | None:
    """The conversation a worker is (or was) in; a worker takes part in one chat only."""
    return (
        Conversation.objects.select_related("run")
        .filter(Q(seeker=worker) | Q(supporter=worker))
        .order_by("-pk")
        .first()
    )


@dataclass(frozen=True)
class LiveRow:
    id: int
    seeker_id: int | None
    supporter_id: int | None
    problem_type: str
    emotion_type: str
    turns: int
    messages: int
    elapsed_s: int


def active_conversations() -> list[LiveRow]:
    """Every chat in progress, oldest first, for the staff live view."""
    now = timezone.now()
    rows = Conversation.objects.filter(state=Conversation.State.ACTIVE, source_format="")
    return [
        LiveRow(
            id=c.pk,
            seeker_id=c.seeker_id,
            supporter_id=c.supporter_id,
            problem_type=c.problem_type,
            emotion_type=c.emotion_type,
            turns=c.turns,
            messages=c.last_seq,
            elapsed_s=rules.elapsed_seconds(c, now),
        )
        for c in rows.order_by("started_at", "pk")
    ]


def strategy_guide() -> list[dict[str, str]]:
    """Each strategy with its definition and example from the tutorial content (may be empty)."""
    content = {
        s.key: s
        for s in SubTask.objects.filter(
            kind=SubTask.Kind.STRATEGY, key__in=vocabulary.STRATEGY_NAMES
        )
    }
    guide = []
    for strategy in vocabulary.STRATEGIES:
        sub = content.get(strategy.name)
        guide.append(
            {
                "name": strategy.name,
                "code": strategy.code,
                "stage": strategy.stage,
                "definition": sub.definition if sub else "",
                "example_seeker": sub.example_seeker if sub else "",
                "example_supporter": sub.example_supporter if sub else "",
            }
        )
    return guide
