"""What the chat needs before anyone connects: P active conversations, their workers and a
logged-in session per worker; and, afterwards, what the database stored."""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crowd import vocabulary  # plain constants: no Django needed

SITUATION = (
    "My workload doubled after two colleagues left and I can't sleep, "
    "I worry every night that I'll lose my job if I miss another deadline."
)


@dataclass(frozen=True)
class PairSpec:
    index: int
    conversation_id: int
    seeker_session: str
    supporter_session: str


def create_conversations(pairs: int) -> tuple[list[PairSpec], int]:
    """P seekers, P qualified supporters, P active conversations and a session per worker.

    Conversation ids start at a random offset: the pub/sub channel layer's groups are global to
    the Redis server, so ids 1..P could meet another run's groups on a shared Redis.
    Returns the pairs and the run's feedback_every.
    """
    from django.db import transaction
    from django.utils import timezone

    from crowd.models import CollectionRun

    now = timezone.now()
    base_id = random.randrange(1_000_000_000, 9_000_000_000)
    with transaction.atomic():
        run = CollectionRun.objects.create(
            name=f"bench-{secrets.token_hex(4)}", title="Chat load benchmark"
        )
        seekers, supporters = _create_workers(run, pairs, now)
        conversations = _create_active_conversations(run, seekers, supporters, base_id, now)
        keys = _create_sessions((*seekers, *supporters), now)
    specs = [
        PairSpec(i, c.pk, keys[c.seeker_id], keys[c.supporter_id])
        for i, c in enumerate(conversations)
    ]
    return specs, run.feedback_every


def _create_workers(run: Any, pairs: int, now: datetime) -> tuple[list[Any], list[Any]]:
    from crowd.models import Worker

    seekers = Worker.objects.bulk_create(
        Worker(
            run=run,
            role=vocabulary.SEEKER,
            provider=Worker.Provider.PROLIFIC,
            external_id=f"bench-seeker-{i}",
            person_key=f"bench-seeker-{i}",
            stage=Worker.Stage.CHATTING,
            consented_at=now,
        )
        for i in range(pairs)
    )
    supporters = Worker.objects.bulk_create(
        Worker(
            run=run,
            role=vocabulary.SUPPORTER,
            provider=Worker.Provider.PROLIFIC,
            external_id=f"bench-supporter-{i}",
            person_key=f"bench-supporter-{i}",
            stage=Worker.Stage.CHATTING,
            qualification=Worker.Qualification.QUALIFIED,
            qualified_at=now,
            consented_at=now,
        )
        for i in range(pairs)
    )
    return seekers, supporters


def _create_active_conversations(
    run: Any, seekers: list[Any], supporters: list[Any], base_id: int, now: datetime
) -> list[Any]:
    from chat.models import Conversation

    return Conversation.objects.bulk_create(
        Conversation(
            pk=base_id + i,
            run=run,
            seeker=seeker,
            supporter=supporter,
            experience_type=vocabulary.EXPERIENCE_TYPES[i % len(vocabulary.EXPERIENCE_TYPES)],
            emotion_type=vocabulary.DEFAULT_EMOTIONS[i % len(vocabulary.DEFAULT_EMOTIONS)],
            problem_type=vocabulary.DEFAULT_PROBLEMS[i % len(vocabulary.DEFAULT_PROBLEMS)],
            situation=SITUATION,
            initial_emotion_intensity=1 + i % 5,
            state=Conversation.State.ACTIVE,
            started_at=now,
        )
        for i, (seeker, supporter) in enumerate(zip(seekers, supporters, strict=True))
    )


def _create_sessions(workers: Iterable[Any], now: datetime) -> dict[int, str]:
    """What SessionStore().create() stores for each worker, written in one INSERT instead of 2P.

    Returns the session key of each worker, by worker id.
    """
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    from crowd.selectors import SESSION_KEY

    store = SessionStore()
    keys: dict[int, str] = {}
    rows = []
    for worker in workers:
        keys[worker.pk] = secrets.token_hex(16)
        rows.append(
            Session(
                session_key=keys[worker.pk],
                session_data=store.encode({SESSION_KEY: worker.pk}),
                expire_date=now + timedelta(days=1),
            )
        )
    Session.objects.bulk_create(rows)
    return keys


def stored_messages(conversation_ids: Iterable[int]) -> Counter[tuple[int, str | None]]:
    from chat.models import Utterance

    rows = Utterance.objects.filter(conversation_id__in=list(conversation_ids)).values_list(
        "conversation_id", "client_message_id"
    )
    return Counter((conv, client_id) for conv, client_id in rows)
