"""Safety flags leave the platform only when the researcher asks: the default export keeps the
ESConv layout exact, and `--include-safety` adds each conversation's flags, in both layouts."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from chat.models import Conversation, Utterance
from safety import live
from tests.quality.factories import make_conversation

pytestmark = pytest.mark.django_db

CRISIS = "I've been saving up my pills for when it gets too much"


def _flagged() -> Conversation:
    conversation = make_conversation()
    Utterance.objects.filter(conversation=conversation, position=3).update(text=CRISIS)
    assert live.screen_stored([conversation.pk]) == 1
    Conversation.objects.filter(pk=conversation.pk).update(quality_status="approved")
    return conversation


def _export(tmp_path: Path, fmt: str, *extra: str) -> list[dict[str, object]]:
    path = tmp_path / f"out.{fmt}"
    call_command("export_esconv", "--output", str(path), "--format", fmt, *extra, stdout=StringIO())
    text = path.read_text()
    return json.loads(text) if fmt == "raw" else [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("fmt", ["raw", "jsonl"])
def test_flags_are_exported_only_when_asked(tmp_path: Path, fmt: str) -> None:
    _flagged()
    plain = _export(tmp_path, fmt)
    assert len(plain) == 1 and "safety_flags" not in plain[0]
    assert "pills" in json.dumps(plain) and "suicide" not in json.dumps(plain)

    (chosen,) = _export(tmp_path, fmt, "--include-safety")
    (flag,) = chosen["safety_flags"]  # type: ignore[misc]
    assert 0.5 <= flag.pop("score") <= 1.0
    assert flag == {
        "position": 3,
        "category": "suicide_self_harm",
        "kind": "crisis",
        "resolved": False,
    }
    assert {key: value for key, value in chosen.items() if key != "safety_flags"} == plain[0]


def test_a_conversation_without_flags_gets_an_empty_list(tmp_path: Path) -> None:
    conversation = make_conversation()
    Conversation.objects.filter(pk=conversation.pk).update(quality_status="approved")
    (chosen,) = _export(tmp_path, "raw", "--include-safety")
    assert chosen["safety_flags"] == []
