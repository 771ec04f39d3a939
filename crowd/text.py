"""How the platform measures what people write. One function, used by every rule and form."""

from __future__ import annotations


def word_count(text: str) -> int:
    """Words as the protocol counts them: whitespace-separated tokens, `len(text.split())`."""
    return len(text.split())
