"""What two messages are compared as: the normal form and its words."""

from __future__ import annotations

from authenticity.text import normalise, text_hash, words


def test_it_ignores_case_quotes_spacing_and_edge_punctuation() -> None:
    assert (
        normalise("  \u201cI\u2019m   SO sorry\nto hear that!!\u201d ")
        == "i'm so sorry to hear that"
    )
    assert normalise("...ok...") == "ok"
    assert normalise("Take care \U0001f60a") == "take care"


def test_inner_punctuation_stays_in_the_normal_form() -> None:
    assert (
        normalise("Sorry to hear that, what's going on?") == "sorry to hear that, what's going on"
    )


def test_a_message_of_only_punctuation_is_empty() -> None:
    assert normalise("?!") == "" and normalise("\U0001f642") == "" and normalise("") == ""


def test_words_are_runs_of_letters_and_digits() -> None:
    assert words(normalise("You're welcome, 24/7!")) == ["you", "re", "welcome", "24", "7"]
    assert words(normalise("Ça va? Très bien.")) == ["ça", "va", "très", "bien"]


def test_the_hash_is_of_the_normal_form_and_fits_64_bits() -> None:
    same = text_hash(normalise("Thank you so much!")) == text_hash(normalise("thank  you so much"))
    assert same
    assert 0 <= text_hash("thank you") < 2**64
    assert text_hash("thank you") != text_hash("thank you so much")
