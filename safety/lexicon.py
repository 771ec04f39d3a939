"""The phrase lexicon (lexicon.yaml): patterns per category, and figure-of-speech vetoes.

The lexicon is data so that a reviewer can add a phrasing seen in a real chat without touching
code; this module only compiles it. Each category's patterns become one alternation, so a
message is read once per category whatever the lexicon's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from esc_platform import yaml_text
from safety.categories import SPEAKERS

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")

# What a vetoed span is replaced by: no word of any pattern, and a word boundary either side.
_BLANK = " ~ "


class LexiconError(ValueError):
    """The lexicon file is malformed: named so an edit that breaks it is found at once."""


@dataclass(frozen=True, slots=True)
class CategoryPatterns:
    category: str
    speaker: str
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Lexicon:
    categories: tuple[CategoryPatterns, ...]
    veto: re.Pattern[str] | None

    def blank_vetoes(self, text: str) -> str:
        """`text` (normalised) with every figure of speech blanked out."""
        return self.veto.sub(_BLANK, text) if self.veto is not None else text

    def matches(self, text: str, speaker: str) -> dict[str, tuple[float, str]]:
        """Category -> (weight, matched phrase) for this speaker's categories in `text`.

        `text` must be normalised and already have its vetoes blanked.
        """
        found: dict[str, tuple[float, str]] = {}
        for entry in self.categories:
            if entry.speaker != speaker:
                continue
            match = entry.pattern.search(text)
            if match is not None:
                found[entry.category] = (entry.weight, match.group(0).strip())
        return found


def _alternation(patterns: list[str], where: str) -> re.Pattern[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LexiconError(f"{where}: bad pattern {pattern!r}: {exc}") from None
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")


def _category(name: str, body: Any) -> CategoryPatterns:
    if not isinstance(body, dict) or body.get("speaker") not in SPEAKERS:
        raise LexiconError(f"category {name}: needs a speaker (seeker or supporter)")
    patterns = body.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        raise LexiconError(f"category {name}: needs a list of patterns")
    weight = float(body.get("weight", 0.9))
    if not 0.0 < weight <= 1.0:
        raise LexiconError(f"category {name}: weight must be in (0, 1], not {weight}")
    return CategoryPatterns(name, body["speaker"], weight, _alternation(patterns, name))


def parse_lexicon(data: Any) -> Lexicon:
    """A Lexicon from the YAML document's data; a LexiconError naming what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise LexiconError("the lexicon needs a 'categories' mapping")
    categories = tuple(_category(name, body) for name, body in data["categories"].items())
    vetoes = data.get("vetoes") or []
    veto = _alternation(vetoes, "vetoes") if vetoes else None
    return Lexicon(categories, veto)


@cache
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The lexicon, read and compiled once per process."""
    return parse_lexicon(yaml_text.load(path.read_text(encoding="utf-8")))
