"""Backends that write the supporter's next message in an evaluation (docs/evaluation.md).

    request = request_for_conversation(conversation.pk)
    reply = backend_for(config).reply(request)   # a Reply, or a BackendError with a .code

`contract` holds the request, the reply and the error (no Django there, so the reference
server can import it); `http` and `retrieval` the two kinds; `sources` the database side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaluation.backends.contract import (
    CONTRACT,
    Backend,
    BackendError,
    Reply,
    SupporterRequest,
    Turn,
    validate_reply,
)

if TYPE_CHECKING:
    from evaluation.models import SupporterBackend

__all__ = [
    "CONTRACT",
    "Backend",
    "BackendError",
    "Reply",
    "SupporterRequest",
    "Turn",
    "backend_for",
    "request_for_conversation",
    "validate_reply",
]


# The two below reach the database. They import `sources` when called, so importing this
# package (for the contract alone) works before Django is set up.


def request_for_conversation(conversation_id: int) -> SupporterRequest:
    """The request for a conversation's next supporter message: its survey and utterances."""
    from evaluation.backends import sources

    return sources.request_for_conversation(conversation_id)


def backend_for(config: SupporterBackend) -> Backend:
    """The backend a SupporterBackend row describes; retrieval indexes are cached per data."""
    from evaluation.backends import sources

    return sources.backend_for(config)
