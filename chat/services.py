"""Matching, messages, feedback and endings of the live chat (SPEC section 4).

Every write that a worker sees live happens here, and every live event leaves from here as a
plain JSON-safe dict, only after the transaction that wrote it has committed.
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, F, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from chat import selectors
from chat.models import Conversation, Utterance
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.services import TaskOutcome, finish_worker
from crowd.views import stage_url
from quality.models import Flag
from surveys.models import PreChatSurvey
from tutorial.models import SubTask

STAFF = "staff"
# A supporter message whose word sequence matches a tutorial example this closely
# (difflib ratio 2·M/T over lower-cased word tokens) is a copy: flagged and warned.
COPY_SIMILARITY_THRESHOLD = 0.8
# Examples shorter than this many words ("Hello") are too common to call a copy.
COPY_MIN_EXAMPLE_WORDS = 5
MAX_CLIENT_ID_CHARS = 64
# Pairs made by one poll of the waiting room (each pair is its own short transaction).
MATCHES_PER_POLL = 20

END_REASONS = ("finished", "partner_unresponsive", "leave")


class ChatError(Exception):
    """A refused request: `code` is the protocol's machine code, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def group_name(conversation_id: int) -> str:
    return f"chat.conversation.{conversation_id}"


def other_role(role: str) -> str:
    return vocabulary.SUPPORTER if role == vocabulary.SEEKER else vocabulary.SEEKER


def _send_after_commit(
    conversation_id: int, event: dict[str, Any], outbox: list[dict[str, Any]] | None = None
) -> None:
    """Relay an event to the conversation's group once (and only if) the write committed.

    With an `outbox`, the committed event is put there instead, for a caller on the event loop
    to group_send itself: a worker thread blocking on async_to_sync for every message costs a
    thread hop and holds a pool thread while Redis answers.
    """

    def send() -> None:
        if outbox is not None:
            outbox.append(event)
            return
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                group_name(conversation_id), {"type": "chat.event", "event": event}
            )

    transaction.on_commit(send)


async def relay(conversation_id: int, events: list[dict[str, Any]]) -> None:
    """Send committed events (from an outbox of _send_after_commit) to the conversation's group."""
    layer = get_channel_layer()
    if layer is None:
        return
    for event in events:
        await layer.group_send(group_name(conversation_id), {"type": "chat.event", "event": event})


# --- Waiting room and matching ----------------------------------------------------------


def _waiting(run: CollectionRun, role: str) -> QuerySet[Worker]:
    workers = Worker.objects.filter(run=run, role=role, stage=Worker.Stage.WAITING)
    if role == vocabulary.SUPPORTER:
        return workers.filter(qualification=Worker.Qualification.QUALIFIED)
    return workers.filter(Exists(PreChatSurvey.objects.filter(worker=OuterRef("pk"))))


def _claim_oldest(workers: QuerySet[Worker]) -> Worker | None:
    # SKIP LOCKED: concurrent matchers on other processes take the next-oldest instead of
    # waiting for (or double-booking) a row someone else is pairing right now.
    return (
        workers.select_for_update(skip_locked=True)
        .order_by(F("waiting_since").asc(nulls_last=True), "pk")
        .first()
    )


def _match_one_pair(run: CollectionRun) -> Conversation | None:
    with transaction.atomic():
        seeker = _claim_oldest(_waiting(run, vocabulary.SEEKER))
        if seeker is None:
            return None
        supporter = _claim_oldest(_waiting(run, vocabulary.SUPPORTER).exclude(pk=seeker.pk))
        if supporter is None:
            return None
        # The rows are locked, but the conditional UPDATE keeps the rule true on any backend.
        claimed = Worker.objects.filter(
            pk__in=[seeker.pk, supporter.pk], stage=Worker.Stage.WAITING
        ).update(stage=Worker.Stage.CHATTING)
        if claimed != 2:
            transaction.set_rollback(True)
            return None
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


def poll_waiting_room(worker: Worker) -> WaitingState:
    """One poll of the waiting page: try to match, release after too long, say where to go."""
    worker.refresh_from_db()
    if worker.stage == Worker.Stage.WAITING and selectors.may_enter_chat(worker):
        match_waiting_workers(worker.run)
        worker.refresh_from_db()
        if worker.stage == Worker.Stage.WAITING:
            release_from_waiting(worker)
            worker.refresh_from_db()
    now = timezone.now()
    waited = int((now - worker.waiting_since).total_seconds()) if worker.waiting_since else 0
    if worker.stage == Worker.Stage.WAITING:
        state = "waiting"
    elif worker.stage == Worker.Stage.CHATTING:
        state = "matched"
    elif worker.stage == Worker.Stage.DONE and selectors.current_conversation(worker) is None:
        state = "released"
    else:
        state = "elsewhere"
    return WaitingState(
        state=state,
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


# --- Conversation state as the protocol shows it ----------------------------------------


def _last_message_at(conversation: Conversation, role: str) -> datetime | None:
    if role == vocabulary.SEEKER:
        return conversation.seeker_last_message_at
    return conversation.supporter_last_message_at


def can_end(conversation: Conversation, role: str, now: datetime) -> bool:
    run = conversation.run
    return (
        conversation.is_active
        and role == vocabulary.SEEKER
        and conversation.turns >= run.min_turns_to_end
        and selectors.elapsed_seconds(conversation, now) >= run.min_seconds_to_end
    )


def can_report_unresponsive(conversation: Conversation, role: str, now: datetime) -> bool:
    if not conversation.is_active or role not in (vocabulary.SEEKER, vocabulary.SUPPORTER):
        return False
    # A partner who never wrote has been silent since the chat started.
    last = _last_message_at(conversation, other_role(role)) or conversation.started_at
    if last is None:
        return False
    return (now - last).total_seconds() >= conversation.run.partner_silence_seconds


def status_frame(conversation: Conversation, role: str, now: datetime) -> dict[str, Any]:
    return {
        "type": "status",
        "turns": conversation.turns,
        "elapsed_s": selectors.elapsed_seconds(conversation, now),
        "can_end": can_end(conversation, role, now),
        "can_report_unresponsive": can_report_unresponsive(conversation, role, now),
    }


def _statuses(conversation: Conversation, now: datetime) -> dict[str, dict[str, Any]]:
    return {
        role: status_frame(conversation, role, now)
        for role in (vocabulary.SEEKER, vocabulary.SUPPORTER, STAFF)
    }


def message_frame(utterance: Utterance) -> dict[str, Any]:
    """The full frame of a message, strategy included; `frame_for` strips it for the seeker."""
    frame: dict[str, Any] = {
        "type": "message",
        "seq": utterance.position,
        "id": utterance.client_message_id or f"seq-{utterance.position}",
        "speaker": utterance.speaker,
        "text": utterance.text,
        "sent_at": (utterance.sent_at or timezone.now()).isoformat(),
    }
    if utterance.strategy:
        frame["strategy"] = utterance.strategy
    return frame


def frame_for(role: str, frame: dict[str, Any]) -> dict[str, Any]:
    """What one recipient may see of a message frame: the seeker never sees strategies."""
    if role == vocabulary.SEEKER and "strategy" in frame:
        return {k: v for k, v in frame.items() if k != "strategy"}
    return frame


def feedback_request_frame(prompt: int) -> dict[str, Any]:
    return {"type": "feedback_request", "prompt": prompt, "question": vocabulary.FEEDBACK_QUESTION}


def _next_url_for(conversation: Conversation, role: str) -> str:
    if role == STAFF:
        return reverse("chat:live")
    worker = conversation.seeker if role == vocabulary.SEEKER else conversation.supporter
    if worker is None:
        return reverse("landing")
    worker.refresh_from_db(fields=["stage"])
    return stage_url(worker)


def ended_frame(conversation: Conversation, role: str) -> dict[str, Any]:
    return {
        "type": "ended",
        "reason": conversation.end_reason,
        "by": conversation.ended_by,
        "next_url": _next_url_for(conversation, role),
    }


@dataclass(frozen=True)
class ChatSession:
    """What a connecting websocket is told: who it is, the state, and the replay."""

    role: str
    conversation_id: int
    hello: dict[str, Any]
    replay: list[dict[str, Any]]
    feedback_request: dict[str, Any] | None
    ended: dict[str, Any] | None


def _authorized(
    conversation_id: int, worker_id: int | None, staff: bool
) -> tuple[Conversation, str]:
    conversation = (
        Conversation.objects.select_related("run", "seeker", "supporter")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise ChatError("not_found", "There is no such conversation.")
    if staff:
        return conversation, STAFF
    role = selectors.role_in(conversation, worker_id) if worker_id else None
    if role is None:
        raise ChatError("forbidden", "You are not a participant of this conversation.")
    if role == vocabulary.SUPPORTER and not (
        conversation.supporter and conversation.supporter.is_qualified
    ):
        raise ChatError("forbidden", "Only qualified supporters may chat.")
    return conversation, role


def authorize_connection(conversation_id: int, *, worker_id: int | None, staff: bool) -> str:
    """The role of a websocket in a conversation, checked before it joins the group.

    Raises ChatError "not_found" or "forbidden" (an outsider or an unqualified supporter).
    """
    return _authorized(conversation_id, worker_id, staff)[1]


def open_session(
    conversation_id: int, *, worker_id: int | None, staff: bool = False, after: int = 0
) -> ChatSession:
    """Authorise a websocket and build its hello, replay (seq > after) and open prompt.

    Raises ChatError "not_found" or "forbidden" (an outsider or an unqualified supporter).
    """
    conversation, role = _authorized(conversation_id, worker_id, staff)
    now = timezone.now()
    if not conversation.is_active:
        return ChatSession(role, conversation.pk, {}, [], None, ended_frame(conversation, role))
    status = status_frame(conversation, role, now)
    pending = conversation.pending_feedback_prompt if role == vocabulary.SEEKER else None
    hello = {
        "type": "hello",
        "conversation": conversation.pk,
        "role": role,
        "last_seq": conversation.last_seq,
        "state": conversation.state,
        "turns": status["turns"],
        "elapsed_s": status["elapsed_s"],
        "can_end": status["can_end"],
        "can_report_unresponsive": status["can_report_unresponsive"],
        "pending_feedback_prompt": pending,
    }
    replay = [
        frame_for(role, message_frame(u))
        for u in conversation.utterances.filter(position__gt=max(0, after)).order_by("position")
    ]
    return ChatSession(
        role=role,
        conversation_id=conversation.pk,
        hello=hello,
        replay=replay,
        feedback_request=feedback_request_frame(pending) if pending else None,
        ended=None,
    )


# --- Messages -----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


_WORD = re.compile(r"[a-z0-9']+")
# The tutorial examples, already split into words, kept per process: reading and splitting them
# for every supporter message was a query and most of the check's cost. A SubTask save or
# delete clears the cache (signals in chat.apps); the age limit covers edits made by another
# process, which no signal here sees.
EXAMPLES_MAX_AGE_S = 60.0
_examples: tuple[float, list[tuple[str, list[str]]]] | None = None


def forget_tutorial_examples(**_: Any) -> None:
    """Drop the cached tutorial examples (connected to SubTask's post_save and post_delete)."""
    global _examples
    _examples = None


def _tutorial_examples() -> list[tuple[str, list[str]]]:
    global _examples
    cached = _examples
    now = time.monotonic()
    if cached is not None and now - cached[0] < EXAMPLES_MAX_AGE_S:
        return cached[1]
    rows = (
        SubTask.objects.exclude(example_supporter="")
        .order_by("order")
        .values_list("title", "example_supporter")
    )
    examples = [
        (str(title), words)
        for title, text in rows
        if len(words := _words(text)) >= COPY_MIN_EXAMPLE_WORDS
    ]
    _examples = (now, examples)
    return examples


def copied_example(text: str) -> str | None:
    """The title of the tutorial example this message nearly copies word for word, if any."""
    words = _words(text)
    if not words:
        return None
    for title, example in _tutorial_examples():
        # ratio = 2·M/T with M ≤ the shorter length, so lengths alone rule most messages out
        # before difflib does any work (the same bound as real_quick_ratio()).
        if 2 * min(len(words), len(example)) < COPY_SIMILARITY_THRESHOLD * (
            len(words) + len(example)
        ):
            continue
        matcher = difflib.SequenceMatcher(None, words, example, autojunk=False)
        # The quick ratio is an upper bound of ratio(): most of the rest are ruled out cheaply.
        if (
            matcher.quick_ratio() >= COPY_SIMILARITY_THRESHOLD
            and matcher.ratio() >= COPY_SIMILARITY_THRESHOLD
        ):
            return title
    return None


def _validate_message(client_id: Any, text: Any, strategy: Any, role: str, max_chars: int) -> None:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS:
        raise ChatError(
            "bad_id", f"A message needs an id of 1 to {MAX_CLIENT_ID_CHARS} characters."
        )
    if not isinstance(text, str) or not text.strip():
        raise ChatError("empty_text", "A message needs some text.")
    if len(text) > max_chars:
        raise ChatError("text_too_long", f"A message may have at most {max_chars} characters.")
    if role == vocabulary.SEEKER:
        if strategy is not None:
            raise ChatError("strategy_not_allowed", "Only the supporter labels messages.")
    elif strategy is None or strategy == "":
        raise ChatError("strategy_required", "Choose a strategy before sending.")
    elif strategy not in vocabulary.STRATEGY_NAMES:
        raise ChatError("unknown_strategy", "That is not one of the eight strategies.")


@dataclass(frozen=True)
class MessageResult:
    ack: dict[str, Any]
    warning: dict[str, Any] | None
    duplicate: bool
    # With post_message(defer_relay=True): the events to group_send, filled only on commit.
    relay: list[dict[str, Any]] = field(default_factory=list)


# The locking read of every chat write, written once per backend. It returns what
# `select_for_update(of=("self",)).select_related("run")` would, built by the models' own from_db
# and database converters; the ORM spent more CPU compiling that query than anything else in a
# message.
_LOCK_FIELDS = (list(Conversation._meta.concrete_fields), list(CollectionRun._meta.concrete_fields))
_LOCK_COLUMNS = [f for group in _LOCK_FIELDS for f in group]
_LOCK_ATTNAMES = tuple([f.attname for f in group] for group in _LOCK_FIELDS)
_lock_statements: dict[str, tuple[str, list[list[Any]]]] = {}


def _lock_statement(db: BaseDatabaseWrapper) -> tuple[str, list[list[Any]]]:
    key = f"{db.alias}:{db.vendor}"
    if key not in _lock_statements:
        quote = db.ops.quote_name
        conversations, runs = (m._meta.db_table for m in (Conversation, CollectionRun))
        columns = ", ".join(
            f"{quote(table)}.{quote(str(f.column))}"
            for table, fields in zip((conversations, runs), _LOCK_FIELDS, strict=True)
            for f in fields
        )
        lock = (
            f" FOR UPDATE OF {quote(conversations)}" if db.features.has_select_for_update_of else ""
        )
        statement = (
            # Only names from the models' metadata are formatted in; values are parameters.
            f"SELECT {columns} FROM {quote(conversations)} INNER JOIN {quote(runs)}"  # noqa: S608
            f" ON {quote(runs)}.{quote('id')} = {quote(conversations)}.{quote('run_id')}"
            f" WHERE {quote(conversations)}.{quote('id')} = %s{lock}"
        )
        converters = [
            db.ops.get_db_converters(f.cached_col) + f.get_db_converters(db) for f in _LOCK_COLUMNS
        ]
        _lock_statements[key] = (statement, converters)
    return _lock_statements[key]


def _locked_conversation(conversation_id: int) -> Conversation | None:
    db = transaction.get_connection()
    statement, converters = _lock_statement(db)
    with db.cursor() as cursor:
        cursor.execute(statement, [conversation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for i, field_converters in enumerate(converters):
        for convert in field_converters:
            values[i] = convert(values[i], _LOCK_COLUMNS[i].cached_col, db)
    split = len(_LOCK_ATTNAMES[0])
    conversation = Conversation.from_db(db.alias, _LOCK_ATTNAMES[0], values[:split])
    run = CollectionRun.from_db(db.alias, _LOCK_ATTNAMES[1], values[split:])
    Conversation.run.field.set_cached_value(conversation, run)
    return conversation


def _lock_active(conversation_id: int, worker_id: int) -> tuple[Conversation, str]:
    conversation = _locked_conversation(conversation_id)
    if conversation is None:
        raise ChatError("not_found", "There is no such conversation.")
    role = selectors.role_in(conversation, worker_id)
    if role is None:
        raise ChatError("forbidden", "You are not a participant of this conversation.")
    if not conversation.is_active:
        raise ChatError("ended", "This conversation has ended.")
    return conversation, role


def _stored_as(conversation_id: int, client_id: Any, role: str) -> MessageResult | None:
    """The ack of a resend whose id is already stored; bad_id if the partner used that id."""
    if not isinstance(client_id, str) or not client_id:
        return None
    existing = (
        Utterance.objects.filter(conversation_id=conversation_id, client_message_id=client_id)
        .values_list("position", "speaker")
        .first()
    )
    if existing is None:
        return None
    position, speaker = existing
    if speaker != role:
        raise ChatError("bad_id", "That message id is already used.")
    return MessageResult(
        ack={"type": "ack", "id": client_id, "seq": position}, warning=None, duplicate=True
    )


# The two writes of every message, as plain SQL: the ORM's query building was a large part of
# the per-message CPU. ON CONFLICT DO NOTHING lets the unique (conversation, client id) index
# detect a resend instead of a lookup before every insert (PostgreSQL, and SQLite ≥ 3.35 for
# RETURNING).
_INSERT_UTTERANCE = (
    f"INSERT INTO {Utterance._meta.db_table} (conversation_id, position, speaker, text,"  # noqa: S608
    " strategy, feedback, sent_at, client_message_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_COUNTERS = (
    "last_seq",
    "last_speaker",
    "seeker_blocks",
    "supporter_blocks",
    "supporter_message_count",
    "seeker_last_message_at",
    "supporter_last_message_at",
    "feedback_prompt_count",
    "pending_feedback_prompt",
    "pending_feedback_score",
)
_UPDATE_COUNTERS = (
    f"UPDATE {Conversation._meta.db_table} SET "  # noqa: S608
    + ", ".join(f"{name} = %s" for name in _COUNTERS)
    + " WHERE id = %s"
)


def post_message(
    conversation_id: int,
    worker_id: int,
    *,
    client_id: Any,
    text: Any,
    strategy: Any = None,
    defer_relay: bool = False,
) -> MessageResult:
    """Store a message (seq = position, allocated under a row lock), then relay it after commit.

    A resend of an id already stored is acknowledged with its original seq and not relayed.
    The seeker's first message after answering a feedback prompt carries that score.
    With `defer_relay`, the committed relay event is returned in `result.relay` for the caller
    to send (the websocket consumer does it on its event loop) instead of being sent here.
    """
    outbox: list[dict[str, Any]] = []
    with transaction.atomic():
        conversation, role = _lock_active(conversation_id, worker_id)
        try:
            _validate_message(client_id, text, strategy, role, conversation.run.max_message_chars)
        except ChatError:
            # A resend of a stored id is acked (or refused as the partner's) before its
            # content is judged, as it always was.
            if (stored := _stored_as(conversation.pk, client_id, role)) is not None:
                return stored
            raise
        now = timezone.now()
        seq = conversation.last_seq + 1
        feedback = None
        if role == vocabulary.SEEKER:
            feedback = conversation.pending_feedback_score
            conversation.pending_feedback_score = None
            conversation.seeker_last_message_at = now
            if conversation.last_speaker != role:
                conversation.seeker_blocks += 1
        else:
            conversation.supporter_last_message_at = now
            conversation.supporter_message_count += 1
            if conversation.last_speaker != role:
                conversation.supporter_blocks += 1
        conversation.last_speaker = role
        conversation.last_seq = seq
        label = strategy if role == vocabulary.SUPPORTER else None
        db = transaction.get_connection()
        adapt = db.ops.adapt_datetimefield_value
        with db.cursor() as cursor:
            cursor.execute(
                _INSERT_UTTERANCE,
                [conversation.pk, seq, role, text, label, feedback, adapt(now), client_id],
            )
            inserted = cursor.fetchone()
            if inserted is None:
                # The id is already stored (a resend): nothing was written.
                stored = _stored_as(conversation.pk, client_id, role)
                if stored is None:  # pragma: no cover - a position clash: the lock rules it out
                    raise ChatError("bad_id", "That message id is already used.")
                return stored
            prompt = None
            if (
                role == vocabulary.SUPPORTER
                and conversation.supporter_message_count % conversation.run.feedback_every == 0
            ):
                # A newer prompt replaces one still unanswered: the seeker rates the latest.
                conversation.feedback_prompt_count += 1
                conversation.pending_feedback_prompt = conversation.feedback_prompt_count
                prompt = conversation.feedback_prompt_count
            values = [getattr(conversation, name) for name in _COUNTERS]
            values = [adapt(v) if isinstance(v, datetime) else v for v in values]
            cursor.execute(_UPDATE_COUNTERS, [*values, conversation.pk])
        warning = None
        if role == vocabulary.SUPPORTER:
            copied = copied_example(text)
            if copied is not None:
                Flag.objects.create(
                    conversation=conversation,
                    utterance_id=inserted[0],
                    kind=Flag.Kind.COPIED_EXAMPLE,
                    detail=f"Copies the tutorial example of “{copied}”.",
                )
                warning = {
                    "type": "warning",
                    "code": "copied_example",
                    "message": (
                        "Please write in your own words: this message copies an example "
                        "from the training."
                    ),
                }
        message: dict[str, Any] = {
            "type": "message",
            "seq": seq,
            "id": client_id,
            "speaker": role,
            "text": text,
            "sent_at": now.isoformat(),
        }
        if label:
            message["strategy"] = label
        _send_after_commit(
            conversation.pk,
            {
                "kind": "message",
                "message": message,
                "status": _statuses(conversation, now),
                "feedback_request": feedback_request_frame(prompt) if prompt else None,
            },
            outbox if defer_relay else None,
        )
    return MessageResult(
        ack={"type": "ack", "id": client_id, "seq": seq},
        warning=warning,
        duplicate=False,
        relay=outbox,
    )


def answer_feedback(
    conversation_id: int, worker_id: int, *, prompt: Any, score: Any
) -> dict[str, Any]:
    """Keep the seeker's stars for an open prompt; they are stored on the next seeker message."""
    if not isinstance(prompt, int) or isinstance(prompt, bool):
        raise ChatError("bad_feedback", "Feedback needs the prompt number.")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ChatError("bad_feedback", "The score must be a whole number from 1 to 5.")
    ack = {"type": "feedback_ack", "prompt": prompt, "score": score}
    # The usual case in one conditional UPDATE (it locks the row itself); when it changes
    # nothing, the locked path below finds out why.
    if Conversation.objects.filter(
        pk=conversation_id,
        seeker_id=worker_id,
        state=Conversation.State.ACTIVE,
        pending_feedback_prompt=prompt,
    ).update(pending_feedback_prompt=None, pending_feedback_score=score):
        return ack
    with transaction.atomic():
        conversation, role = _lock_active(conversation_id, worker_id)
        if role != vocabulary.SEEKER:
            raise ChatError("feedback_not_allowed", "Only the seeker answers feedback prompts.")
        if conversation.pending_feedback_prompt != prompt:
            raise ChatError("no_open_prompt", "There is no open feedback prompt with that number.")
        Conversation.objects.filter(pk=conversation.pk).update(
            pending_feedback_prompt=None, pending_feedback_score=score
        )
    return ack


# --- Endings ------------------------------------------------------------------------------

# reason -> (end_reason, ender's outcome, partner's outcome); True = goes to the post-chat survey
_ENDINGS: dict[str, tuple[str, tuple[TaskOutcome, bool], tuple[TaskOutcome, bool]]] = {
    "finished": (
        Conversation.EndReason.FINISHED,
        (TaskOutcome.FINISHED, True),
        (TaskOutcome.FINISHED, True),
    ),
    "leave": (
        "{role}_left",
        (TaskOutcome.LEFT_EARLY, False),
        (TaskOutcome.PARTNER_UNRESPONSIVE, True),
    ),
    "partner_unresponsive": (
        Conversation.EndReason.PARTNER_UNRESPONSIVE,
        (TaskOutcome.PARTNER_UNRESPONSIVE, True),
        (TaskOutcome.LEFT_EARLY, False),
    ),
}


def end_conversation(conversation_id: int, worker_id: int, *, reason: Any) -> dict[str, Any]:
    """End a chat the one way the rules allow, record both outcomes, tell both sides.

    finished: the seeker, after min turns and min time; both 03 → post-chat survey.
    leave: anyone, any time; leaver 01 → status page, partner 02 → post-chat survey.
    partner_unresponsive: after the partner's silence; reporter 02 → survey, partner 01.
    Returns the caller's own `ended` frame.
    """
    if reason not in _ENDINGS:
        raise ChatError(
            "unknown_reason", "The end reason must be finished, partner_unresponsive or leave."
        )
    with transaction.atomic():
        conversation, role = _lock_active(conversation_id, worker_id)
        now = timezone.now()
        if reason == "finished" and not can_end(conversation, role, now):
            raise ChatError(
                "end_not_allowed",
                "The seeker can end the conversation after the minimum turns and time.",
            )
        if reason == "partner_unresponsive" and not can_report_unresponsive(
            conversation, role, now
        ):
            raise ChatError("end_not_allowed", "Your partner wrote recently; please wait a little.")
        end_reason, (ender_outcome, ender_survey), (partner_outcome, partner_survey) = _ENDINGS[
            reason
        ]
        end_reason = end_reason.format(role=role)
        claimed = Conversation.objects.filter(
            pk=conversation.pk, state=Conversation.State.ACTIVE
        ).update(state=Conversation.State.ENDED, ended_at=now, ended_by=role, end_reason=end_reason)
        if not claimed:
            raise ChatError("ended", "This conversation has ended.")
        conversation.refresh_from_db()
        workers = Worker.objects.select_related("run").in_bulk(
            [conversation.seeker_id, conversation.supporter_id]
        )
        seeker, supporter = workers[conversation.seeker_id], workers[conversation.supporter_id]
        ender, partner = (seeker, supporter) if role == vocabulary.SEEKER else (supporter, seeker)
        finish_worker(ender, ender_outcome, post_survey=ender_survey)
        finish_worker(partner, partner_outcome, post_survey=partner_survey)
        frames = {
            r: ended_frame(conversation, r)
            for r in (vocabulary.SEEKER, vocabulary.SUPPORTER, STAFF)
        }
        _send_after_commit(
            conversation.pk,
            {
                "kind": "ended",
                "reason": end_reason,
                "by": role,
                "next_url": {r: f["next_url"] for r, f in frames.items()},
            },
        )
    return frames[role]


def end_abandoned_conversations() -> int:
    """Periodic sweep: end chats where neither side has written for the run's abandon limit.

    Both workers left without ending the chat, so both get 01 (left early) and their status
    page; the conversation's end reason says what happened. Safe to run twice: each ending is
    a conditional UPDATE from `active`.
    """
    now = timezone.now()
    ended = 0
    active = Conversation.objects.filter(
        state=Conversation.State.ACTIVE, seeker__isnull=False, supporter__isnull=False
    ).select_related("run")
    for conversation in active:
        moments = [
            t
            for t in (
                conversation.started_at,
                conversation.seeker_last_message_at,
                conversation.supporter_last_message_at,
            )
            if t is not None
        ]
        if not moments or max(moments) > now - timedelta(
            seconds=conversation.run.abandon_after_seconds
        ):
            continue
        with transaction.atomic():
            claimed = Conversation.objects.filter(
                pk=conversation.pk, state=Conversation.State.ACTIVE
            ).update(
                state=Conversation.State.ENDED,
                ended_at=now,
                ended_by="",
                end_reason=Conversation.EndReason.ABANDONED,
            )
            if not claimed:
                continue
            workers = Worker.objects.select_related("run").in_bulk(
                [conversation.seeker_id, conversation.supporter_id]
            )
            for worker in workers.values():
                finish_worker(worker, TaskOutcome.LEFT_EARLY, post_survey=False)
            conversation.refresh_from_db()
            _send_after_commit(
                conversation.pk,
                {
                    "kind": "ended",
                    "reason": Conversation.EndReason.ABANDONED.value,
                    "by": "",
                    "next_url": {
                        r: _next_url_for(conversation, r)
                        for r in (vocabulary.SEEKER, vocabulary.SUPPORTER, STAFF)
                    },
                },
            )
        ended += 1
    return ended


async def send_typing(conversation_id: int, role: str) -> None:
    """Tell the partner someone is typing. Nothing is stored, so nothing to wait for."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            group_name(conversation_id),
            {"type": "chat.event", "event": {"kind": "typing", "speaker": role}},
        )
