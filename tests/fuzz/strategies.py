"""What the fuzz tests throw at the platform, and what they demand of every row it keeps.

Values are built to hit the edges found by hand: NUL, unpaired surrogates, control and
zero-width characters, huge and non-finite numbers, deep nesting, wrong types everywhere.
Hypothesis runs derandomized (the same examples on every run, so CI is reproducible), without
a deadline and without its example database.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from chat.models import Utterance
from crowd import vocabulary
from crowd.text import has_visible_text, refusal

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

# Characters that broke something once, or that look like text and are not.
AWKWARD = [
    "\x00",
    "\ud800",
    "\udfff",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\r",
    "\n",
    "\t",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u3164",
    "\u2800",
    "\u0301",
    "\u202e",
    "\u2028",
    "\ufffd",
    "\uffff",
    "😊",
    "²",
    "٣",
    '"',
    "\\",
    "<",
    "{",
]

awkward_text = st.text(
    alphabet=st.one_of(st.sampled_from(AWKWARD), st.characters(codec="utf-8")), max_size=40
)
# A word or two a person might write, so that some frames and posts are accepted.
plain_text = st.text(alphabet="abc xyz.\n", min_size=1, max_size=30)
text = st.one_of(awkward_text, plain_text, st.sampled_from(["", " ", "\u200b" * 3]))

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 5, 2**63, -(2**63) - 1, 10**25]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)

# Raw JSON text no json.dumps writes: what an attacker types by hand.
CRAFTED = [
    "[" * 100_000,
    '{"a":' * 20_000,
    "9" * 5000,
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    '"\\ud800"',
    '"\\u0000"',
    "[" * 30 + "]" * 30,
]
crafted = st.sampled_from(CRAFTED)


def json_text(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return values.map(json.dumps)


def row_breaks_chat_rules(utterance: Utterance, max_chars: int) -> str | None:
    """Why the live chat would have refused to store this utterance (None: it would not)."""
    text = utterance.text
    if refusal(text) is not None:
        return f"text {refusal(text)}"
    if not has_visible_text(text):
        return "text without anything visible"
    if len(text) > max_chars:
        return "text longer than the run allows"
    if utterance.speaker == vocabulary.SUPPORTER and utterance.strategy not in (
        vocabulary.STRATEGY_NAMES
    ):
        return f"supporter strategy {utterance.strategy!r}"
    if utterance.speaker == vocabulary.SEEKER and utterance.strategy:
        return "a seeker line with a strategy"
    client_id = utterance.client_message_id
    if client_id is not None and not (client_id.isprintable() and 1 <= len(client_id) <= 64):
        return f"client id {client_id!r}"
    return None
