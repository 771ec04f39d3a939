"""What the backends need from the database: a conversation as a request, and built backends.

Retrieval indexes take seconds to build, so each is kept in this process per source (the
collection run searched, or every run) and per fingerprint of its data (how many approved
conversations it has and the highest id among them): a newly approved conversation changes the
fingerprint and the next reply builds a fresh index. Backends with the same source (say Joint
and Random over the same run) share one index; only the mode and seed differ. Only a swap
between two replies goes unnoticed (one conversation withdrawn while an older one is
approved: same count, same highest id); the next change of either, or a restart, rebuilds.

Replies come from worker threads, so the cache is guarded by a lock, and a second lock per key
makes one thread build while the others for that key wait for it.
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max, QuerySet

from chat.dataset.exporting import exportable_conversations, iter_records
from chat.models import Conversation, Utterance
from evaluation.backends.contract import Backend, BackendError, SupporterRequest, Turn
from evaluation.backends.http import HttpBackend
from evaluation.backends.retrieval import RetrievalBackend, RetrievalIndex
from evaluation.models import SupporterBackend

# (source run pk or None for every run, conversation count, highest conversation pk)
CacheKey = tuple[int | None, int, int | None]

_lock = threading.Lock()
_indexes: dict[CacheKey, RetrievalIndex] = {}
_building: dict[CacheKey, threading.Lock] = {}


def request_for_conversation(conversation_id: int) -> SupporterRequest:
    """The request for a conversation's next supporter message: its survey and utterances."""
    conversation = (
        Conversation.objects.filter(pk=conversation_id)
        .values(
            "experience_type",
            "emotion_type",
            "problem_type",
            "situation",
            "initial_emotion_intensity",
        )
        .first()
    )
    if conversation is None:
        raise BackendError("bad_request", f"no conversation {conversation_id}")
    rows = (
        Utterance.objects.filter(conversation_id=conversation_id)
        .order_by("position")
        .values_list("speaker", "text", "strategy")
    )
    dialog = tuple(Turn(speaker=s, text=t, strategy=g) for s, t, g in rows)
    survey = dict(conversation)
    return SupporterRequest(survey=survey, dialog=dialog, conversation=str(conversation_id))


def source_conversations(config: SupporterBackend) -> QuerySet[Conversation]:
    """The approved conversations a retrieval backend answers from; never an evaluation's."""
    run = config.source_run if config.source_run_id is not None else None
    return exportable_conversations(status="approved", run=run).filter(evaluation_leg__isnull=True)


def _cache_key(config: SupporterBackend) -> CacheKey:
    found = source_conversations(config).aggregate(count=Count("pk"), last=Max("pk"))
    return (config.source_run_id, found["count"], found["last"])


def retrieval_index(config: SupporterBackend) -> RetrievalIndex:
    """The config's index, built at most once per source and state of its data."""
    key = _cache_key(config)
    with _lock:
        index = _indexes.get(key)
        if index is not None:
            return index
        building = _building.setdefault(key, threading.Lock())
    with building:
        with _lock:
            index = _indexes.get(key)
        if index is None:
            index = RetrievalIndex.from_conversations(iter_records(source_conversations(config)))
            with _lock:
                # The source's older indexes are out of date now: let them go.
                for old in [k for k in _indexes if k[0] == key[0]]:
                    del _indexes[old]
                _indexes[key] = index
                _building.pop(key, None)
    return index


def forget_indexes() -> None:
    """Drop every cached index (tests; a process that wants its memory back)."""
    with _lock:
        _indexes.clear()


def backend_for(config: SupporterBackend) -> Backend:
    """The backend a SupporterBackend row describes, ready to reply."""
    if config.kind == SupporterBackend.Kind.HTTP:
        return HttpBackend(config.url, config.timeout_seconds)
    if config.kind == SupporterBackend.Kind.RETRIEVAL:
        return RetrievalBackend(retrieval_index(config), mode=config.mode, seed=config.seed)
    raise BackendError("bad_request", f"unknown backend kind {config.kind!r}")
