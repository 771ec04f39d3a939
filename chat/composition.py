"""How a message was written: the `compose` object of a message frame (docs/protocol.md).

The chat page measures, while a message is composed, the time from its first input to its
sending, the characters typed and pasted (from `input` events by their `inputType`, so that
dictation and input-method composition count as typing), the characters deleted, and how
often the page lost focus. The server checks the object like every other field and adds what
it saw itself: the typing frames this socket sent while the message was composed. A frame
without the object is stored with none: it did not come from the chat page.
"""

from __future__ import annotations

from typing import Any, Final

from chat.errors import ChatError

# Every field the page sends, with its largest accepted value.
FIELDS: Final[dict[str, int]] = {
    "ms": 24 * 3600 * 1000,  # first input to send
    "inputs": 100_000,  # input events that typed (keys, composition, dictation)
    "typed": 100_000,  # characters those events added
    "pasted": 100_000,  # characters pasted or dropped
    "pastes": 10_000,  # paste and drop events
    "deleted": 100_000,  # characters deleted
    "blurs": 10_000,  # times the page lost focus
}
# Milliseconds from the page's regaining focus to the send; null when it never lost it.
SINCE_FOCUS: Final = "since_focus_ms"
# Added by the server: the typing frames it received from the socket since its last message.
TYPING_FRAMES: Final = "typing_frames"


def _bad(message: str) -> ChatError:
    return ChatError("bad_compose", f"The message's composition data is not valid: {message}.")


def check_compose(compose: Any, typing_frames: int) -> dict[str, Any] | None:
    """The composition data to store with a message, or None when the frame had none."""
    if compose is None:
        return None
    if not isinstance(compose, dict):
        raise _bad("it must be an object")
    unknown = sorted(set(compose) - set(FIELDS) - {SINCE_FOCUS})
    if unknown:
        raise _bad(f"unknown field {unknown[0]!r}")
    stored: dict[str, Any] = {}
    for name, largest in FIELDS.items():
        value = compose.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= largest:
            raise _bad(f"{name} must be a whole number from 0 to {largest}")
        stored[name] = value
    since = compose.get(SINCE_FOCUS)
    if since is not None and (
        not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= FIELDS["ms"]
    ):
        raise _bad(f"{SINCE_FOCUS} must be null or a whole number of milliseconds")
    stored[SINCE_FOCUS] = since
    stored[TYPING_FRAMES] = typing_frames
    return stored
