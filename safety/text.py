"""The one normalisation both the lexicon and the model read a message through."""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, whitespace collapsed.

    Dropping apostrophes lets a pattern say "dont" once for "don't", "dont" and "don’t", the
    three ways chat messages spell it.
    """
    text = text.translate(_QUOTES).lower().replace("'", "")
    return _SPACE.sub(" ", text).strip()
