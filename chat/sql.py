"""The raw SQL of the message hot path, in one place.

The ORM's query building was most of the per-message CPU, so the three statements of every
message (lock the conversation, insert the utterance, update its counters) are written here as
plain SQL built from the models' own metadata. tests/chat/test_hot_path_sql.py ties the column
lists to the models, so a new field cannot be silently missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from chat.models import Conversation, Utterance
from crowd.models import CollectionRun, Worker
from quality.models import Flag

# --- Lock: SELECT conversation + run ... FOR UPDATE OF conversation ------------------------

# It returns what `select_for_update(of=("self",)).select_related("run")` would, built by the
# models' own from_db and database converters.
LOCK_FIELDS = (list(Conversation._meta.concrete_fields), list(CollectionRun._meta.concrete_fields))
_LOCK_COLUMNS = [f for group in LOCK_FIELDS for f in group]
_LOCK_ATTNAMES = tuple([f.attname for f in group] for group in LOCK_FIELDS)
_lock_statements: dict[str, tuple[str, str, list[list[Any]]]] = {}


def _lock_statement(db: BaseDatabaseWrapper) -> tuple[str, str, list[list[Any]]]:
    """(the lock statement, the same read without the lock, each column's converters)."""
    key = f"{db.alias}:{db.vendor}"
    if key not in _lock_statements:
        quote = db.ops.quote_name
        conversations, runs = (m._meta.db_table for m in (Conversation, CollectionRun))
        columns = ", ".join(
            f"{quote(table)}.{quote(str(f.column))}"
            for table, fields in zip((conversations, runs), LOCK_FIELDS, strict=True)
            for f in fields
        )
        lock = (
            f" FOR UPDATE OF {quote(conversations)}" if db.features.has_select_for_update_of else ""
        )
        read = (
            # Only names from the models' metadata are formatted in; values are parameters.
            f"SELECT {columns} FROM {quote(conversations)} INNER JOIN {quote(runs)}"  # noqa: S608
            f" ON {quote(runs)}.{quote('id')} = {quote(conversations)}.{quote('run_id')}"
            f" WHERE {quote(conversations)}.{quote('id')} = %s"
        )
        converters = [
            db.ops.get_db_converters(f.cached_col) + f.get_db_converters(db) for f in _LOCK_COLUMNS
        ]
        _lock_statements[key] = (read + lock, read, converters)
    return _lock_statements[key]


def lock_statement() -> str:
    """The lock's SQL, for a caller that runs it on a connection of its own (chat.live_store)."""
    return _lock_statement(connections[DEFAULT_DB_ALIAS])[0]


def conversation_from_row(
    row: Sequence[Any], db: BaseDatabaseWrapper | None = None
) -> Conversation:
    """The Conversation (its run attached) from one row of the lock statement."""
    db = db or connections[DEFAULT_DB_ALIAS]
    converters = _lock_statement(db)[2]
    values = list(row)
    for i, field_converters in enumerate(converters):
        for convert in field_converters:
            values[i] = convert(values[i], _LOCK_COLUMNS[i].cached_col, db)
    split = len(_LOCK_ATTNAMES[0])
    conversation = Conversation.from_db(db.alias, _LOCK_ATTNAMES[0], values[:split])
    run = CollectionRun.from_db(db.alias, _LOCK_ATTNAMES[1], values[split:])
    Conversation.run.field.set_cached_value(conversation, run)
    return conversation


def locked_conversation(conversation_id: int) -> Conversation | None:
    """The conversation (with its run) under a row lock until the transaction ends."""
    db = transaction.get_connection()
    statement = _lock_statement(db)[0]
    with db.cursor() as cursor:
        cursor.execute(statement, [conversation_id])
        row = cursor.fetchone()
    return None if row is None else conversation_from_row(row, db)


# --- Insert the utterance; update the conversation's counters -----------------------------

# Every column of an utterance but its id, in the order insert_utterance takes the values.
UTTERANCE_COLUMNS = (
    "conversation_id",
    "position",
    "speaker",
    "text",
    "strategy",
    "feedback",
    "sent_at",
    "client_message_id",
    "compose",
)
# ON CONFLICT DO NOTHING lets the unique (conversation, client id) index detect a resend instead
# of a lookup before every insert (PostgreSQL, and SQLite ≥ 3.35 for RETURNING).
_INSERT_UTTERANCE = (
    f"INSERT INTO {Utterance._meta.db_table} ({', '.join(UTTERANCE_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(['%s'] * len(UTTERANCE_COLUMNS))}) ON CONFLICT DO NOTHING RETURNING id"
)
_UPDATE_COUNTERS = (
    f"UPDATE {Conversation._meta.db_table} SET "  # noqa: S608
    + ", ".join(f"{name} = %s" for name in Conversation.LIVE_FIELDS)
    + " WHERE id = %s"
)


def insert_utterance(values: dict[str, Any]) -> int | None:
    """Insert one utterance (a value for each of UTTERANCE_COLUMNS); None if the id is taken."""
    db = transaction.get_connection()
    adapt = db.ops.adapt_datetimefield_value
    row = [values[c] for c in UTTERANCE_COLUMNS]
    row = [adapt(v) if isinstance(v, datetime) else v for v in row]
    with db.cursor() as cursor:
        cursor.execute(_INSERT_UTTERANCE, row)
        inserted = cursor.fetchone()
    return None if inserted is None else int(inserted[0])


def save_live_fields(conversation: Conversation) -> None:
    """Write the conversation's live-chat bookkeeping (Conversation.LIVE_FIELDS) as it is now."""
    db = transaction.get_connection()
    adapt = db.ops.adapt_datetimefield_value
    values = [getattr(conversation, name) for name in Conversation.LIVE_FIELDS]
    values = [adapt(v) if isinstance(v, datetime) else v for v in values]
    with db.cursor() as cursor:
        cursor.execute(_UPDATE_COUNTERS, [*values, conversation.pk])


# --- One statement for the whole write (PostgreSQL, chat.live_store) ----------------------

# Every column of a flag but its id and utterance (filled from the inserted row), in order.
FLAG_COLUMNS = (
    "conversation_id",
    "kind",
    "detail",
    "created_at",
    "resolved_at",
    "resolution_note",
)
_STORED_UTTERANCE_COLUMNS = ("position", "speaker", "text", "strategy", "sent_at")


def _store_statement(with_flag: bool) -> str:
    # Data-modifying CTEs run once each whether or not the outer query reads them; the UPDATE
    # joins the inserted row, so a resend (ON CONFLICT: nothing inserted) changes nothing.
    conversations, flags = Conversation._meta.db_table, Flag._meta.db_table
    statement = (
        f"WITH ins AS ({_INSERT_UTTERANCE}),"  # noqa: S608
        f" upd AS (UPDATE {conversations} SET "
        + ", ".join(f"{name} = %s" for name in Conversation.LIVE_FIELDS)
        + f" FROM ins WHERE {conversations}.id = %s RETURNING {conversations}.id)"
    )
    if with_flag:
        statement += (
            # A copied example names no other places: its matches are an empty list.
            f", flag AS (INSERT INTO {flags} ({', '.join(FLAG_COLUMNS)}, matches, utterance_id)"  # noqa: S608
            f" SELECT {', '.join(['%s'] * len(FLAG_COLUMNS))}, '[]', ins.id FROM ins)"
        )
    return statement + " SELECT id FROM ins"  # noqa: S608


STORE_MESSAGE = _store_statement(with_flag=False)
STORE_MESSAGE_AND_FLAG = _store_statement(with_flag=True)
STORED_UTTERANCE = (
    f"SELECT {', '.join(_STORED_UTTERANCE_COLUMNS)} FROM {Utterance._meta.db_table}"  # noqa: S608
    " WHERE conversation_id = %s AND client_message_id = %s"
)


def store_parameters(
    utterance: dict[str, Any], conversation: Conversation, flag: dict[str, Any] | None
) -> list[Any]:
    """The parameters of STORE_MESSAGE (or STORE_MESSAGE_AND_FLAG, with the flag's values)."""
    parameters = [utterance[c] for c in UTTERANCE_COLUMNS]
    parameters += [getattr(conversation, name) for name in Conversation.LIVE_FIELDS]
    parameters.append(conversation.pk)
    if flag is not None:
        parameters += [flag[c] for c in FLAG_COLUMNS]
    # Choices members are str subclasses that psycopg would dump by name: store their values.
    return [str(v) if isinstance(v, str) else v for v in parameters]


def stored_utterance(row: Sequence[Any], conversation_id: int, client_id: str) -> Utterance:
    """The (unsaved) Utterance of one STORED_UTTERANCE row, enough to build its frame."""
    values = dict(zip(_STORED_UTTERANCE_COLUMNS, row, strict=True))
    return Utterance(conversation_id=conversation_id, client_message_id=client_id, **values)


# --- Connect: everything a worker's socket needs, in one round trip (chat.live_store) --------


def _in_model_order(model: Any, names: set[str]) -> tuple[str, ...]:
    """`names` in the order of the model's fields, as Model.from_db takes partial rows."""
    found = tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)
    assert len(found) == len(names), names
    return found


# The workers' columns the connection checks (the session binding and the qualification), and
# the utterances' columns a replayed frame shows.
CONNECT_WORKER_FIELDS = _in_model_order(
    Worker, {"id", "device_key", "data_deleted_at", "role", "qualification"}
)
REPLAY_FIELDS = _in_model_order(
    Utterance, {"id", "position", "client_message_id", "speaker", "text", "sent_at", "strategy"}
)


def connect_statements() -> str:
    """Four SELECTs sent as one string: the session, the conversation with its run (as the
    lock statement reads it, unlocked), its two workers, and the replay after a seq.

    Parameters: session key, now, conversation id (three times), seq to replay after.
    """
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    session_table = Session._meta.db_table
    workers, conversations = Worker._meta.db_table, Conversation._meta.db_table
    # Only names from the models' metadata are formatted in; values are parameters.
    return "; ".join(
        (
            f"SELECT session_data FROM {quote(session_table)}"  # noqa: S608
            " WHERE session_key = %s AND expire_date > %s",
            _lock_statement(db)[1],
            f"SELECT {', '.join(f'w.{quote(name)}' for name in CONNECT_WORKER_FIELDS)}"  # noqa: S608
            f" FROM {quote(workers)} w INNER JOIN {quote(conversations)} c"
            " ON w.id IN (c.seeker_id, c.supporter_id) WHERE c.id = %s",
            f"SELECT {', '.join(quote(name) for name in REPLAY_FIELDS)}"  # noqa: S608
            f" FROM {quote(Utterance._meta.db_table)}"
            " WHERE conversation_id = %s AND position > %s ORDER BY position",
        )
    )


def connect_worker(row: Sequence[Any]) -> Worker:
    """A Worker of the connect statement's third result (those fields loaded, others deferred)."""
    return Worker.from_db(DEFAULT_DB_ALIAS, list(CONNECT_WORKER_FIELDS), list(row))


def replay_utterance(row: Sequence[Any]) -> Utterance:
    """An Utterance of the connect statement's last result, enough to build its frame."""
    return Utterance.from_db(DEFAULT_DB_ALIAS, list(REPLAY_FIELDS), list(row))


# --- Feedback: the seeker's answer to the open prompt, one conditional UPDATE ----------------

# Changes the row only when the worker is its seeker, the chat is live and the prompt is the
# open one; RETURNING tells whether it did. Parameters: answer_parameters().
ANSWER_OPEN_PROMPT = (
    f"UPDATE {Conversation._meta.db_table}"  # noqa: S608
    " SET pending_feedback_prompt = NULL, pending_feedback_score = %s"
    " WHERE id = %s AND seeker_id = %s AND state = %s AND pending_feedback_prompt = %s"
    " RETURNING id"
)


def answer_parameters(conversation_id: int, worker_id: int, prompt: int, score: int) -> list[Any]:
    return [score, conversation_id, worker_id, str(Conversation.State.ACTIVE), prompt]


def answer_open_prompt(conversation_id: int, worker_id: int, prompt: int, score: int) -> bool:
    """ANSWER_OPEN_PROMPT through the ORM's connection; True when the prompt was answered."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            ANSWER_OPEN_PROMPT, answer_parameters(conversation_id, worker_id, prompt, score)
        )
        return cursor.fetchone() is not None
