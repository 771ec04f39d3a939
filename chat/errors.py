"""What can go wrong in the chat: a refused request, or a service behind it that failed."""

from __future__ import annotations

from django.db import Error as DatabaseFailure
from psycopg import Error as PostgreSQLFailure
from redis.exceptions import RedisError


class ChatError(Exception):
    """A refused request: `code` is the protocol's machine code, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Failures of the services behind a healthy socket (database, Redis, the network to them):
# the sender gets a retryable error frame and the socket stays open.
RETRYABLE = "unavailable"
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseFailure,
    # chat.live_store talks to PostgreSQL with psycopg directly, not through Django's wrappers.
    PostgreSQLFailure,
    RedisError,
    OSError,
    TimeoutError,
)
