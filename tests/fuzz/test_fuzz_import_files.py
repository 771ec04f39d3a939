"""Fuzzed ESConv files through `manage.py import_esconv`: a clear refusal or a clean import.

Each example takes a good record and breaks one field, with a generated value or with raw
JSON text no encoder writes (deep nesting, 5,000 digits, NaN). Properties: the command either
imports or stops with a CommandError (never another exception), a refused file writes
nothing, and every utterance stored is one the live chat would accept.
"""

from __future__ import annotations

import copy
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from chat.models import Utterance
from tests.dataset.helpers import RAW_RECORD, snapshot
from tests.fuzz.strategies import CRAFTED, FUZZ, json_values, row_breaks_chat_rules, text

pytestmark = pytest.mark.django_db

# Stands for the crafted JSON text in the encoded file.
MARKER = "<crafted>"

# Where one record can be broken: top-level keys, scores, and the parts of a dialog item.
FIELD_PATHS: list[tuple[Any, ...]] = [(key,) for key in RAW_RECORD] + [
    ("survey_score", "seeker", "empathy"),
    ("survey_score", "seeker", "initial_emotion_intensity"),
    ("survey_score", "supporter", "relevance"),
    ("dialog", 0, "content"),
    ("dialog", 1, "content"),
    ("dialog", 0, "speaker"),
    ("dialog", 1, "annotation", "strategy"),
    ("dialog", 3, "annotation", "feedback"),
    ("dialog", 2, "annotation"),
]

breakages = st.tuples(
    st.sampled_from(FIELD_PATHS),
    st.one_of(text, json_values, st.just(MARKER), st.sampled_from(["9" * 5000, "  "])),
    st.sampled_from(CRAFTED),
)


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    record = copy.deepcopy(RAW_RECORD)
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return record


def _file_text(path: tuple[Any, ...], value: Any, crafted: str) -> str:
    """A raw file of a good record and a broken one; the marker becomes the crafted text."""
    text = json.dumps([copy.deepcopy(RAW_RECORD), _broken(path, value)])
    return text.replace(json.dumps(MARKER), crafted)


@FUZZ
@given(breakage=breakages)
def test_an_import_is_a_clean_refusal_or_stores_only_what_the_chat_accepts(
    tmp_path: Path, breakage: tuple[tuple[Any, ...], Any, str]
) -> None:
    path = tmp_path / "fuzzed.json"
    path.write_text(_file_text(*breakage), encoding="utf-8")
    before = snapshot()
    try:
        call_command("import_esconv", str(path), "--run", "fuzz-import", stdout=StringIO())
    except CommandError as exc:
        assert "nothing was imported" in str(exc)
        assert snapshot() == before
    for utterance in Utterance.objects.all():
        assert row_breaks_chat_rules(utterance, max_chars=10_000) is None, utterance.text
