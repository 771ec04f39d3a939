"""The one exception of the chat services: a refused request, answered with an error frame."""

from __future__ import annotations


class ChatError(Exception):
    """A refused request: `code` is the protocol's machine code, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
