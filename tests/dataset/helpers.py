"""Small ESConv-shaped records and database snapshots for the dataset tests."""

from __future__ import annotations

import copy
import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command

from chat.dataset.layouts import SEEKER_SCORE_KEYS, TOP_LEVEL_KEYS
from chat.models import Conversation, Utterance
from crowd.models import CollectionRun
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey

RAW_RECORD: dict[str, Any] = {
    "experience_type": "Previous Experience",
    "emotion_type": "anxiety",
    "problem_type": "job crisis",
    "situation": "I hate my job but I am scared to quit and seek a new career.",
    "survey_score": {
        "seeker": {
            "initial_emotion_intensity": "5",
            "empathy": "5",
            "relevance": "4",
            "final_emotion_intensity": "2",
        },
        "supporter": {"relevance": "3"},
    },
    "dialog": [
        {"speaker": "seeker", "annotation": {}, "content": "Hello\n"},
        {
            "speaker": "supporter",
            "annotation": {"strategy": "Question"},
            "content": "Hello, what would you like to talk about?",
        },
        {
            "speaker": "supporter",
            "annotation": {"strategy": "Others"},
            "content": "I am  here   for you.",
        },
        {
            "speaker": "seeker",
            "annotation": {"feedback": "4"},
            "content": "I have to deal with many people at work café\n",
        },
        {
            "speaker": "supporter",
            "annotation": {"strategy": "Reflection of feelings"},
            "content": "That sounds exhausting.",
        },
    ],
    "seeker_question1": "Partner was very supportive",
    "seeker_question2": "More examples",
    "supporter_question1": "",
    "supporter_question2": "Nothing",
}


def raw_record(**overrides: Any) -> dict[str, Any]:
    record = copy.deepcopy(RAW_RECORD)
    record.update(copy.deepcopy(overrides))
    return record


def bare_record() -> dict[str, Any]:
    """RAW_RECORD with no post-chat survey and no open answers: only the pre-chat intensity."""
    return raw_record(
        survey_score={"seeker": {"initial_emotion_intensity": "3"}, "supporter": {}},
        seeker_question1="",
        seeker_question2="",
        supporter_question1="",
        supporter_question2="",
    )


def assert_raw_layout(record: dict[str, Any]) -> None:
    """A record of the raw layout has its keys in chat.dataset.layouts' order (docs/dataset.md):
    the ten top-level keys, the seeker's scores (those given), each dialog item's three keys."""
    assert list(record) == list(TOP_LEVEL_KEYS)
    seeker = list(record["survey_score"]["seeker"])
    assert seeker == [key for key in SEEKER_SCORE_KEYS if key in seeker], seeker
    assert list(record["survey_score"]["supporter"]) in ([], ["relevance"])
    assert all(list(item) == ["speaker", "annotation", "content"] for item in record["dialog"])


def write_raw(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return path


def import_file(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_esconv", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def export_file(*args: str) -> str:
    out = StringIO()
    call_command("export_esconv", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> dict[str, int]:
    """Row counts of everything an import may write."""
    return {
        "runs": CollectionRun.objects.count(),
        "conversations": Conversation.objects.count(),
        "utterances": Utterance.objects.count(),
        "seeker_surveys": SeekerPostChatSurvey.objects.count(),
        "supporter_surveys": SupporterPostChatSurvey.objects.count(),
    }
