"""Evaluation runs for the report tests, written straight through the ORM.

The report only reads what an evaluation leaves behind (sessions, legs, their utterances and
the comparisons), so these helpers write those rows directly: `evaluation_run` makes the run
and its two backends, `add_session` one seeker's two legs (utterances alternate seeker and
supporter, the seeker first, one supporter line per strategy given) and, unless told
otherwise, their comparison. Seekers are workers outside the story (tests/cast.py `extra`).
"""

from __future__ import annotations

import importlib.util
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.utils import timezone

from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from evaluation.backends.sources import forget_indexes
from evaluation.models import (
    QUESTIONS,
    Comparison,
    Evaluation,
    EvaluationLeg,
    EvaluationSession,
    SupporterBackend,
)
from tests.cast import extra
from tests.crowd.factories import make_run
from tests.quality.factories import make_conversation

_seekers = itertools.count(1)
DEFAULT_STRATEGIES = ("Question", "Affirmation and Reassurance", "Providing Suggestions")


def evaluation_run(
    name: str = "eval-run", backend_a: str = "joint-model", backend_b: str = "retrieval"
) -> Evaluation:
    """A collection run made an evaluation run of two backends (what staff set up in the admin)."""
    run = CollectionRun.objects.create(name=name)
    a = SupporterBackend.objects.create(
        name=backend_a, kind=SupporterBackend.Kind.HTTP, url="http://model.invalid/reply"
    )
    b = SupporterBackend.objects.create(name=backend_b, kind=SupporterBackend.Kind.RETRIEVAL)
    return Evaluation.objects.create(run=run, backend_a=a, backend_b=b)


def _seeker(run: CollectionRun) -> Worker:
    actor = extra(vocabulary.SEEKER, next(_seekers))
    return Worker.objects.create(
        run=run,
        role=vocabulary.SEEKER,
        provider=Worker.Provider.PROLIFIC,
        external_id=actor.pid,
        stage=Worker.Stage.DONE,
    )


def _conversation(run: CollectionRun, strategies: Sequence[str]) -> Conversation:
    # No workers on the row: the supporter is a backend, and the seeker is the session's
    # (Conversation allows one conversation per seeker, and a seeker has two legs).
    conversation = Conversation.objects.create(
        run=run,
        experience_type="Current Experience",
        emotion_type="anxiety",
        problem_type="job crisis",
        situation="I may lose my job and I cannot sleep.",
        initial_emotion_intensity=4,
        state=Conversation.State.ENDED,
    )
    utterances = []
    for turn, strategy in enumerate(strategies):
        utterances += [
            Utterance(
                conversation=conversation,
                position=2 * turn + 1,
                speaker=vocabulary.SEEKER,
                text=f"seeker line {turn + 1}",
            ),
            Utterance(
                conversation=conversation,
                position=2 * turn + 2,
                speaker=vocabulary.SUPPORTER,
                text=f"backend reply {turn + 1}",
                strategy=strategy,
            ),
        ]
    Utterance.objects.bulk_create(utterances)
    return conversation


def add_session(
    evaluation: Evaluation,
    *,
    first: str = "a",
    answers: Mapping[str, str] | str | None = "tie",
    strategies: Mapping[str, Sequence[str]] | None = None,
    replies: Mapping[str, int] | None = None,
    failures: Mapping[str, int] | None = None,
) -> EvaluationSession:
    """One seeker's evaluation: a leg per backend (`first` met first) and their comparison.

    `answers` is one answer for every question, or one per question (the others tie); None
    leaves the session unfinished, with no comparison. `strategies` gives each slot's supporter
    lines (default DEFAULT_STRATEGIES); `replies` defaults to one per supporter line.
    """
    strategies = {"a": DEFAULT_STRATEGIES, "b": DEFAULT_STRATEGIES, **(strategies or {})}
    replies = {slot: len(strategies[slot]) for slot in "ab"} | dict(replies or {})
    failures = {"a": 0, "b": 0} | dict(failures or {})
    session = EvaluationSession.objects.create(
        evaluation=evaluation, worker=_seeker(evaluation.run), first=first
    )
    backends = {"a": evaluation.backend_a, "b": evaluation.backend_b}
    for order, slot in enumerate((first, "b" if first == "a" else "a"), start=1):
        EvaluationLeg.objects.create(
            session=session,
            conversation=_conversation(evaluation.run, strategies[slot]),
            backend=backends[slot],
            slot=slot,
            order=order,
            replies=replies[slot],
            failures=failures[slot],
        )
    if answers is not None:
        _compare(session, answers)
    return session


def _compare(session: EvaluationSession, answers: Mapping[str, str] | str) -> None:
    chosen = (
        dict.fromkeys(QUESTIONS, answers)
        if isinstance(answers, str)
        else {question: answers.get(question, "tie") for question in QUESTIONS}
    )
    Comparison.objects.create(session=session, **chosen)
    session.completed_at = timezone.now()
    session.save(update_fields=["completed_at"])


REFERENCE_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reference_supporter.py"


@contextmanager
def reference_server(**options: Any) -> Iterator[str]:
    """The reference model server (scripts/reference_supporter.py) on a free port: its URL."""
    spec = importlib.util.spec_from_file_location("reference_supporter_server", REFERENCE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.make_server("127.0.0.1", 0, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}/reply"
    finally:
        server.shutdown()
        server.server_close()


def retrieval_source(strategies: Sequence[str]) -> CollectionRun:
    """A run of approved (imported) conversations for a retrieval backend, one per strategy;
    every supporter line its own, so that retrieval never runs out of unsaid replies."""
    forget_indexes()
    source = make_run()
    for strategy in strategies:
        conversation = make_conversation(
            run=source, strategy=strategy, status="approved", end_reason="imported"
        )
        for utterance in Utterance.objects.filter(conversation=conversation, speaker="supporter"):
            utterance.text = f"That sounds hard; {strategy.lower()}, line {utterance.position}."
            utterance.save(update_fields=["text"])
    return source
