"""crowd.text: the one definition of acceptable text and of a word, for chat, surveys and import."""

from __future__ import annotations

import pytest

from crowd.text import TextRefused, has_visible_text, normalise_text, word_count

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u3164", "\u2800"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_invisible_character_is_neither_text_nor_a_word(char: str) -> None:
    assert not has_visible_text(char * 3 + " \n\t")
    assert word_count(f"{char} " * 30) == 0
    assert word_count(f"one {char} two") == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I lost my job", 4),
        ("  spaced   out\n\nwords\t", 3),
        ("emoji 😊 count", 3),
        ("family 👨\u200d👩\u200d👧", 2),  # joined by zero-width joiners: one visible word
        ("caf\u0065\u0301 ok", 2),
        ("", 0),
    ],
)
def test_words_are_whitespace_tokens_with_something_visible(text: str, words: int) -> None:
    assert word_count(text) == words


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("nul\x00", "a NUL character"),
        ("half \ud800 pair", "unpaired surrogate"),
        ("\udfff", "unpaired surrogate"),
        ("bell\x07", "control character (U+0007)"),
        ("escape\x1b[0m", "control character (U+001B)"),
        ("c1\x85", "control character (U+0085)"),
    ],
)
def test_it_refuses_what_cannot_be_stored_or_shown(bad: str, reason: str) -> None:
    with pytest.raises(TextRefused) as refused:
        normalise_text(bad)
    assert reason in str(refused.value)


def test_it_keeps_newlines_and_tabs_makes_crlf_newlines_nfc_and_trims() -> None:
    assert normalise_text("  a\tb\r\nc\rd\n  ") == "a\tb\nc\nd"
    assert normalise_text(" e\u0301 ") == "\u00e9"
    assert normalise_text(" kept \n", strip=False) == " kept \n"
