"""What people write, in one place: what text is accepted, and how its words are counted.

The live chat, the survey forms, the quality rules and the dataset import all use these, so a
message the chat refuses is also refused by the import, and "30 words" means the same
everywhere. Invisible characters (zero-width spaces and joiners, word joiners, byte-order
marks, Hangul fillers, blank Braille) neither make a message non-empty nor count as a word.
"""

from __future__ import annotations

import unicodedata

# Letters, marks with a base, digits, punctuation and symbols are what a reader sees.
_VISIBLE_CATEGORY_STARTS = ("L", "N", "P", "S")
# Blank glyphs that Unicode files under letters or symbols (default-ignorable or empty).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_KEPT_CONTROLS = frozenset("\n\t")


class TextRefused(ValueError):
    """Text that cannot be stored: the message says why, in words for the writer."""


def is_visible(char: str) -> bool:
    """Whether one character puts ink on the screen (format characters and spaces do not)."""
    return unicodedata.category(char).startswith(_VISIBLE_CATEGORY_STARTS) and char not in _BLANK


def has_visible_text(text: str) -> bool:
    return any(is_visible(char) for char in text)


def refusal(text: str) -> str | None:
    """Why `text` cannot be stored as it is (None when it can).

    Refused: NUL, other control characters but newline and tab, and unpaired surrogates
    (PostgreSQL cannot store the first, no UTF-8 text holds the last).
    """
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return "contains a broken character (an unpaired surrogate)"
        if category == "Cc" and char not in _KEPT_CONTROLS:
            name = (
                "a NUL character" if char == "\x00" else f"a control character (U+{ord(char):04X})"
            )
            return f"contains {name}"
    return None


def normalise_text(text: str, *, strip: bool = True) -> str:
    """The text as stored: line ends as \\n, NFC, trimmed; raise TextRefused for bad characters.

    Browsers post textarea line ends as \\r\\n, so those are made \\n before controls are
    checked.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reason = refusal(text)
    if reason is not None:
        raise TextRefused(f"The text {reason}.")
    text = unicodedata.normalize("NFC", text)
    return text.strip() if strip else text


def word_count(text: str) -> int:
    """Words as the platform counts them: whitespace-separated tokens with a visible character."""
    return sum(1 for token in text.split() if has_visible_text(token))
