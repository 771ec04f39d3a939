"""The judging's word count agrees with the platform's rule (crowd.text.word_count) everywhere.

quality.judging counts a speaker's texts joined, with a shortcut for plain ASCII; these check the
shortcut against the rule on every ASCII character, on the invisible characters the rule names,
on texts that mix them, and on every utterance of the real ESConv release.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from crowd.text import word_count
from quality.judging import visible_word_count

ASCII = [chr(code) for code in range(128)]
# Non-ASCII that the rule treats specially, or that sits next to the shortcut's edges.
TRICKY = [
    "\u00a0",  # no-break space: whitespace
    "\u200b",  # zero-width space: invisible, not whitespace
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u3164",  # Hangul filler: a letter that shows nothing
    "\u2800",  # blank Braille pattern
    "\u0301",  # a combining mark without a base
    "\u2028",  # line separator
    "\u00e9",
    "\U0001f600",
]


def test_it_counts_every_pair_of_ascii_characters_as_the_rule_does() -> None:
    for first in ASCII:
        for second in ASCII:
            text = first + second
            assert visible_word_count([text]) == word_count(text), repr(text)
            spaced = f"{first} x{second}"
            assert visible_word_count([spaced]) == word_count(spaced), repr(spaced)


def test_it_counts_mixed_texts_and_whole_conversations_as_the_rule_does() -> None:
    rng = random.Random(13)
    alphabet = ASCII + TRICKY + [" "] * 20 + ["word"] * 20
    for _ in range(3000):
        texts = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            for _ in range(rng.randint(0, 6))
        ]
        assert visible_word_count(texts) == sum(word_count(t) for t in texts), texts


@pytest.mark.esconv
def test_it_counts_the_real_release_as_the_rule_does(esconv_dir: Path) -> None:
    for split in ("train", "valid", "test"):
        lines = (esconv_dir / "hf_release_splits" / f"{split}.json").read_text().splitlines()
        for line in lines:
            texts = [item["text"] for item in json.loads(line)["dialog"]]
            assert visible_word_count(texts) == sum(word_count(t) for t in texts)
            for text in texts:
                assert visible_word_count([text]) == word_count(text), repr(text)
