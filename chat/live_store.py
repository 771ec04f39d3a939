"""The chat's database work on PostgreSQL, awaited on the event loop (docs/performance.md).

The thread path (chat.messages.post_message through chat.delivery.in_thread) costs a thread
hop, a pool thread held for every round trip, and the GIL handed back and forth between that
thread and the event loop, which under load was most of a message's latency. On PostgreSQL the
consumer awaits psycopg's async connection instead, and a message is two round trips:

1. BEGIN and the row lock (chat.sql.lock_statement), whose row the rules need;
2. one statement that inserts the utterance, updates the counters and (for a copy of a
   tutorial example) inserts the flag, sent together with COMMIT.

A worker's socket connecting to a live chat is one round trip: its session, the conversation,
both workers and the replay, read by one string of statements (`open_session`). The seeker's
answer to a feedback prompt is one conditional UPDATE (`answer_feedback`).

The rules are chat.messages' (check_frame, check_message, prepare_message), chat.sessions' and
crowd.selectors', and the statements chat.sql's: only where they run differs. SQLite, the
embedded default, keeps the thread path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from psycopg import AsyncClientCursor, AsyncConnection, Error, OperationalError
from psycopg.pq import TransactionStatus

from chat import copies, frames, messages, sessions, sql
from chat.delivery import in_thread
from chat.errors import ChatError
from chat.messages import MessageResult
from chat.models import Conversation
from crowd import selectors, vocabulary

logger = logging.getLogger(__name__)
T = TypeVar("T")

_load_examples = in_thread(copies.load_examples)
_answer_feedback_in_thread = in_thread(messages.answer_feedback)
APPLICATION_NAME = "esc-chat-messages"


class _Pool:
    """Idle async connections of one event loop, at most `size` in use at once.

    No background tasks (psycopg_pool's async pool has some): a test's event loop can end
    without waiting for them, and a server process has one loop for its life. A connection
    goes back to the pool only when it is healthy and outside any transaction.
    """

    def __init__(self, parameters: dict[str, Any], size: int, timeout: float) -> None:
        self.parameters = parameters
        self.timeout = timeout
        self.slots = asyncio.Semaphore(size)
        self.idle: list[AsyncConnection[Any]] = []

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        try:
            await asyncio.wait_for(self.slots.acquire(), self.timeout)
        except TimeoutError:
            raise OperationalError(
                f"no chat database connection came free within {self.timeout:g} s"
            ) from None
        connection = None
        try:
            connection = self.idle.pop() if self.idle else await self._connect()
            yield connection
        finally:
            if connection is not None:
                self._give_back(connection)
            self.slots.release()

    async def _connect(self) -> AsyncConnection[Any]:
        return await asyncio.wait_for(AsyncConnection.connect(**self.parameters), self.timeout)

    def _give_back(self, connection: AsyncConnection[Any]) -> None:
        idle = connection.info.transaction_status == TransactionStatus.IDLE
        if connection.closed or connection.broken or not idle:
            connection.pgconn.finish()
        else:
            self.idle.append(connection)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().pgconn.finish()


# The pool of the running event loop: a server process has one loop; tests start one per test.
_current: tuple[asyncio.AbstractEventLoop, _Pool] | None = None


def enabled() -> bool:
    """Whether chat messages take this path: the database is PostgreSQL."""
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def _connection_parameters() -> dict[str, Any]:
    """Django's own connection parameters (timeouts, adapters, time zone), for async use."""
    parameters = dict(connections[DEFAULT_DB_ALIAS].get_connection_params())
    # Client-side binding: BEGIN and the lock go in one statement string, so one round trip
    # (libpq's pipeline mode, the other way to get there, kept the event loop busy polling).
    parameters["cursor_factory"] = AsyncClientCursor
    # Transactions are opened and closed by the statements themselves (BEGIN ... COMMIT).
    parameters["autocommit"] = True
    # So that pg_stat_activity tells these connections from the ORM's.
    parameters["application_name"] = APPLICATION_NAME
    return parameters


def _pool() -> _Pool:
    global _current
    loop = asyncio.get_running_loop()
    if _current is not None and _current[0] is loop:
        return _current[1]
    forget_pool()
    pool = _Pool(
        _connection_parameters(),
        settings.DATABASE_ASYNC_POOL_MAX,
        float(settings.DATABASE_CONNECT_TIMEOUT),
    )
    _current = (loop, pool)
    return pool


def forget_pool() -> None:
    """Close the idle connections of the pool (tests: the event loop ends with the test, and
    PostgreSQL drops the test database only when no connection is left)."""
    global _current
    if _current is not None:
        pool, _current = _current[1], None
        pool.close()


async def _copied_example(text: str, role: str) -> str | None:
    if role != vocabulary.SUPPORTER:
        return None
    if not copies.examples_loaded():
        await _load_examples()
    return copies.copied_example(text)


async def _on_connection(work: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
    """Run `work` on a pooled connection.

    A connection the server dropped since its last use (a restart, pg_terminate_backend) fails
    at the first round trip, before anything is written or read: `work` raises
    _StaleConnection and is run once more on a fresh connection rather than failing.
    """
    pool = _pool()
    for attempt in (1, 2):
        async with pool.connection() as connection:
            try:
                return await work(connection)
            except _StaleConnection:
                if attempt == 2:
                    raise OperationalError("the database connection failed twice") from None
                logger.info("a pooled database connection had gone; trying a fresh one")
    raise AssertionError("unreachable")  # pragma: no cover


async def _first_round_trip(cursor: Any, statement: str, parameters: list[Any]) -> None:
    try:
        await cursor.execute(statement, parameters)
    except OperationalError:
        if cursor.connection.broken:
            raise _StaleConnection from None
        raise


async def post_message(
    conversation_id: int,
    worker_id: int,
    *,
    client_id: Any,
    text: Any,
    strategy: Any = None,
    compose: dict[str, Any] | None = None,
) -> MessageResult:
    """chat.messages.post_message(defer_relay=True), on the event loop."""
    stored_text = messages.check_frame(client_id, text, strategy)
    return await _on_connection(
        lambda connection: _post(
            connection, conversation_id, worker_id, client_id, stored_text, strategy, compose
        )
    )


async def answer_feedback(
    conversation_id: int, worker_id: int, *, prompt: Any, score: Any
) -> dict[str, Any]:
    """chat.messages.answer_feedback, its usual case on the event loop.

    The seeker answering the open prompt is the one conditional UPDATE of the thread path
    (chat.sql.ANSWER_OPEN_PROMPT), in one round trip. When it changes nothing, the thread path
    runs and finds out why (an outsider, the supporter, an ended chat, another prompt), so
    every refusal is the one it has always been.
    """
    messages.check_feedback(prompt, score)
    parameters = sql.answer_parameters(conversation_id, worker_id, prompt, score)
    if await _on_connection(lambda connection: _answer(connection, parameters)):
        return frames.feedback_ack_frame(prompt, score)
    return await _answer_feedback_in_thread(conversation_id, worker_id, prompt=prompt, score=score)


async def _answer(connection: AsyncConnection[Any], parameters: list[Any]) -> bool:
    cursor = connection.cursor()
    await _first_round_trip(cursor, sql.ANSWER_OPEN_PROMPT, parameters)
    return await cursor.fetchone() is not None


class _StaleConnection(Exception):
    """The first round trip failed on a broken connection: nothing was written."""


# --- Connect ------------------------------------------------------------------------------

_DATABASE_SESSIONS = "django.contrib.sessions.backends.db"


@dataclass(frozen=True)
class Connected:
    worker_id: int
    session: sessions.ChatSession


async def open_session(session: Any, conversation_id: int, after: int) -> Connected | None:
    """A worker's socket joining a live conversation, authorised and greeted in one round trip.

    The session row, the conversation with its run, its two workers and the replay are read
    together (chat.sql.connect_statements); the checks are chat.sessions' and crowd.selectors'.
    None whenever this is not the plain case (no session, an outsider, an unqualified
    supporter, an ended conversation, sessions not in the database): the caller then takes
    the thread path, which refuses or answers exactly as it always has.
    """
    if settings.SESSION_ENGINE != _DATABASE_SESSIONS or session.session_key is None:
        return None
    parameters = [session.session_key, timezone.now(), conversation_id, conversation_id]
    parameters += [conversation_id, after]
    rows = await _on_connection(lambda connection: _read_connect(connection, parameters))
    return _connected(session, rows)


async def _read_connect(
    connection: AsyncConnection[Any], parameters: list[Any]
) -> tuple[Any, Any, list[Any], list[Any]]:
    cursor = connection.cursor()
    await _first_round_trip(cursor, sql.connect_statements(), parameters)
    session_row = await cursor.fetchone()
    cursor.nextset()
    conversation_row = await cursor.fetchone()
    cursor.nextset()
    worker_rows = await cursor.fetchall()
    cursor.nextset()
    return session_row, conversation_row, worker_rows, await cursor.fetchall()


def _connected(session: Any, rows: tuple[Any, Any, list[Any], list[Any]]) -> Connected | None:
    session_row, conversation_row, worker_rows, utterance_rows = rows
    if session_row is None or conversation_row is None:
        return None
    data = session.decode(session_row[0])
    try:
        worker_id = selectors.session_worker_id(data)
    except (TypeError, ValueError):
        return None
    if worker_id is None:
        return None
    workers = {worker.pk: worker for worker in map(sql.connect_worker, worker_rows)}
    worker = workers.get(worker_id)
    if worker is None or not selectors.holds_task(worker, data):
        return None
    conversation = sql.conversation_from_row(conversation_row)
    for field in (Conversation.seeker.field, Conversation.supporter.field):
        field.set_cached_value(conversation, workers.get(getattr(conversation, field.attname)))
    try:
        role = sessions.connection_role(conversation, worker_id, staff=False)
    except ChatError:
        return None
    if not conversation.is_active:
        return None
    replay = sessions.replay_frames(role, [sql.replay_utterance(row) for row in utterance_rows])
    return Connected(worker_id, sessions.live_session(conversation, role, replay))


async def _post(
    connection: AsyncConnection[Any],
    conversation_id: int,
    worker_id: int,
    client_id: str,
    text: str,
    strategy: str | None,
    compose: dict[str, Any] | None,
) -> MessageResult:
    cursor = connection.cursor()
    await _first_round_trip(cursor, "BEGIN; " + sql.lock_statement(), [conversation_id])
    try:
        cursor.nextset()
        row = await cursor.fetchone()
        conversation = None if row is None else sql.conversation_from_row(row)
        role = sessions.writable_role(conversation, worker_id)
        assert conversation is not None
        try:
            messages.check_message(text, strategy, role, conversation)
        except ChatError:
            # As on the thread path: a resend of a stored id is acked before the rules of
            # the moment apply (it was accepted when first sent).
            found = await _resend(connection, conversation, client_id, role)
            if found is None:
                raise
            await _roll_back(connection)
            return found
        copied = await _copied_example(text, role)
        prepared = messages.prepare_message(
            conversation,
            role,
            client_id=client_id,
            text=text,
            strategy=strategy,
            copied=copied,
            compose=compose,
        )
        statement = sql.STORE_MESSAGE if prepared.flag is None else sql.STORE_MESSAGE_AND_FLAG
        parameters = sql.store_parameters(prepared.utterance, conversation, prepared.flag)
        # The write and COMMIT in one round trip: the first result is the write's.
        await cursor.execute(statement + "; COMMIT", parameters)
    except BaseException:
        await _roll_back(connection)
        raise
    inserted = await cursor.fetchone()
    if inserted is not None:
        return MessageResult(
            ack=prepared.ack, warning=prepared.warning, duplicate=False, relay=[prepared.event]
        )
    # The id was already stored (a resend racing its original): nothing was written.
    messages.unprepare(conversation, prepared)
    found = await _resend(connection, conversation, client_id, role)
    if found is None:  # pragma: no cover - a position clash: the lock rules it out
        raise ChatError("bad_id", "That message id is already used.")
    return found


async def _roll_back(connection: AsyncConnection[Any]) -> None:
    """End a transaction left open by a refusal or a failure; a broken link is discarded."""
    if connection.broken or connection.closed:
        return
    try:
        await connection.execute("ROLLBACK")
    except Error:
        # The pool does not take back a connection still in a transaction: it is closed.
        logger.info("could not roll back a chat transaction", exc_info=True)


async def _resend(
    connection: AsyncConnection[Any], conversation: Any, client_id: Any, role: str
) -> MessageResult | None:
    if not isinstance(client_id, str) or not client_id:
        return None
    cursor = await connection.execute(sql.STORED_UTTERANCE, [conversation.pk, client_id])
    row = await cursor.fetchone()
    stored = None if row is None else sql.stored_utterance(row, conversation.pk, client_id)
    found = messages.resend_result(conversation, stored, client_id, role)
    if found is None:
        return None
    result, event = found
    return MessageResult(ack=result.ack, warning=None, duplicate=True, relay=[event])
