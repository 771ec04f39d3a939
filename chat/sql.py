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

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from chat.models import Conversation, Utterance
from crowd.models import CollectionRun
from quality.models import Flag

# --- Lock: SELECT conversation + run ... FOR UPDATE OF conversation ------------------------

# It returns what `select_for_update(of=("self",)).select_related("run")` would, built by the
# models' own from_db and database converters.
LOCK_FIELDS = (list(Conversation._meta.concrete_fields), list(CollectionRun._meta.concrete_fields))
_LOCK_COLUMNS = [f for group in LOCK_FIELDS for f in group]
_LOCK_ATTNAMES = tuple([f.attname for f in group] for group in LOCK_FIELDS)
_lock_statements: dict[str, tuple[str, list[list[Any]]]] = {}


def _lock_statement(db: BaseDatabaseWrapper) -> tuple[str, list[list[Any]]]:
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


def lock_statement() -> str:
    """The lock's SQL, for a caller that runs it on a connection of its own (chat.live_store)."""
    return _lock_statement(connections[DEFAULT_DB_ALIAS])[0]


def conversation_from_row(
    row: Sequence[Any], db: BaseDatabaseWrapper | None = None
) -> Conversation:
    """The Conversation (its run attached) from one row of the lock statement."""
    db = db or connections[DEFAULT_DB_ALIAS]
    converters = _lock_statement(db)[1]
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
    statement, _ = _lock_statement(db)
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
FLAG_COLUMNS = ("conversation_id", "kind", "detail", "created_at", "resolved_at")
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
            f", flag AS (INSERT INTO {flags} ({', '.join(FLAG_COLUMNS)}, utterance_id)"  # noqa: S608
            f" SELECT {', '.join(['%s'] * len(FLAG_COLUMNS))}, ins.id FROM ins)"
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
