"""Is a supporter message a near-verbatim copy of a tutorial example? (docs/protocol.md)"""

from __future__ import annotations

import difflib
import re
import time
from typing import Any

from tutorial.models import SubTask

# A supporter message whose word sequence matches a tutorial example this closely
# (difflib ratio 2·M/T over lower-cased word tokens) is a copy: flagged and warned.
COPY_SIMILARITY_THRESHOLD = 0.8
# Examples shorter than this many words ("Hello") are too common to call a copy.
COPY_MIN_EXAMPLE_WORDS = 5

_WORD = re.compile(r"[a-z0-9']+")
# The tutorial examples, already split into words, kept per process: reading and splitting them
# for every supporter message was a query and most of the check's cost. A SubTask save or
# delete clears the cache (signals in chat.apps); the age limit covers edits made by another
# process, which no signal here sees.
EXAMPLES_MAX_AGE_S = 60.0
_examples: tuple[float, list[tuple[str, list[str]]]] | None = None


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def forget_tutorial_examples(**_: Any) -> None:
    """Drop the cached tutorial examples (connected to SubTask's post_save and post_delete)."""
    global _examples
    _examples = None


def examples_loaded() -> bool:
    """Whether copied_example can answer from memory (no query): chat.live_store asks first."""
    cached = _examples
    return cached is not None and time.monotonic() - cached[0] < EXAMPLES_MAX_AGE_S


def _tutorial_examples() -> list[tuple[str, list[str]]]:
    global _examples
    cached = _examples
    now = time.monotonic()
    if cached is not None and now - cached[0] < EXAMPLES_MAX_AGE_S:
        return cached[1]
    rows = (
        SubTask.objects.exclude(example_supporter="")
        .order_by("order")
        .values_list("title", "example_supporter")
    )
    examples = [
        (str(title), words)
        for title, text in rows
        if len(words := _words(text)) >= COPY_MIN_EXAMPLE_WORDS
    ]
    _examples = (now, examples)
    return examples


def _similar(words: list[str], example: list[str]) -> bool:
    # ratio = 2·M/T with M ≤ the shorter length, so lengths alone rule most messages out
    # before difflib does any work (the same bound as real_quick_ratio()).
    if 2 * min(len(words), len(example)) < COPY_SIMILARITY_THRESHOLD * (len(words) + len(example)):
        return False
    matcher = difflib.SequenceMatcher(None, words, example, autojunk=False)
    # The quick ratio is an upper bound of ratio(): most of the rest are ruled out cheaply.
    return (
        matcher.quick_ratio() >= COPY_SIMILARITY_THRESHOLD
        and matcher.ratio() >= COPY_SIMILARITY_THRESHOLD
    )


def load_examples() -> None:
    """Read the tutorial examples now (in a worker thread, for a caller on the event loop)."""
    _tutorial_examples()


def flag_detail(title: str) -> str:
    """The detail of the flag raised on a message that copies the example titled `title`."""
    return f"Copies the tutorial example of “{title}”."


def copied_example(text: str) -> str | None:
    """The title of the tutorial example this message nearly copies word for word, if any."""
    words = _words(text)
    if not words:
        return None
    for title, example in _tutorial_examples():
        if _similar(words, example):
            return title
    return None
