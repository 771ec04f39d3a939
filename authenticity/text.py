"""How two messages are compared: one normal form, its words, and a 64-bit hash of it.

Casing, curly quotes, runs of whitespace and punctuation at the edges ("Thank you!!" against
"thank you") are what a copy loses or gains when pasted or retyped, so none of them count.
"""

from __future__ import annotations

import hashlib
import re
import string

# Typographic quotes and accents typed for an apostrophe, folded to the ASCII ones.
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
    }
)
# Punctuation and symbols stripped from the ends by str.strip (fast); anything else that is not
# a letter or a digit (an emoji, a rare dash) falls to the regular expression.
_EDGE_MARKS = string.punctuation + string.whitespace + "\u2026\u2013\u2014\u00a1\u00bf"
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# A word is a run of letters or digits (so "you're" is "you", "re" and "don't" is "don", "t").
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """`text` as compared: lower case, ASCII quotes, single spaces, no edge punctuation."""
    folded = text.lower()
    if not folded.isascii():
        folded = folded.translate(_QUOTES)
    # Three million messages go through here: str methods, not regular expressions, when they
    # can (a fifth of the time).
    folded = " ".join(folded.split()).strip(_EDGE_MARKS)
    if folded and not (folded[0].isalnum() and folded[-1].isalnum()):
        folded = _EDGES.sub("", folded)
    return folded


def words(normal: str) -> list[str]:
    """The words of a normalised text, in order."""
    return _WORD.findall(normal)


def text_hash(normal: str) -> int:
    """A 64-bit hash of a normalised text, the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(normal.encode(), digest_size=8).digest(), "little")
