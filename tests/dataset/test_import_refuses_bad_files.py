"""A bad record stops the import, names the record and the field, and leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError

from tests.dataset.helpers import import_file, raw_record, snapshot, write_raw

pytestmark = pytest.mark.django_db


def _dialog_with(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    dialog = raw_record()["dialog"]
    dialog[index] = item
    return dialog


def _refused(path: Path, *args: str) -> str:
    before = snapshot()
    with pytest.raises(CommandError) as excinfo:
        import_file(path, *args)
    assert snapshot() == before, "a refused file must leave the database unchanged"
    return str(excinfo.value)


SEEKER_WITH_FEEDBACK_7 = {"speaker": "seeker", "annotation": {"feedback": "7"}, "content": "hi"}

BAD_THIRD_RECORDS: list[tuple[str, dict[str, Any], str]] = [
    (
        "feedback 7",
        raw_record(dialog=_dialog_with(3, SEEKER_WITH_FEEDBACK_7)),
        "record 3, dialog[3].annotation.feedback: 7 is not between 1 and 5",
    ),
    (
        "unknown strategy",
        raw_record(
            dialog=_dialog_with(
                1, {"speaker": "supporter", "annotation": {"strategy": "Hugs"}, "content": "x"}
            )
        ),
        'record 3, dialog[1].annotation.strategy: unknown strategy "Hugs"',
    ),
    (
        "wrong type",
        raw_record(situation=42),
        "record 3, situation: expected a string, got the number 42",
    ),
    (
        "missing dialog",
        {k: v for k, v in raw_record().items() if k != "dialog"},
        "record 3, dialog: missing",
    ),
    (
        "integer score",
        raw_record(survey_score={"seeker": {"initial_emotion_intensity": 5}, "supporter": {}}),
        "record 3, survey_score.seeker.initial_emotion_intensity: "
        'scores are digit strings such as "4"; got the number 5',
    ),
    (
        "score out of range",
        raw_record(survey_score={"seeker": {"empathy": "6"}, "supporter": {}}),
        "record 3, survey_score.seeker.empathy: 6 is not between 1 and 5",
    ),
    (
        "seeker with a strategy",
        raw_record(
            dialog=_dialog_with(
                0, {"speaker": "seeker", "annotation": {"strategy": "Question"}, "content": "x"}
            )
        ),
        "record 3, dialog[0].annotation.strategy: a seeker item carries no strategy",
    ),
    (
        "supporter without strategy",
        raw_record(
            dialog=_dialog_with(2, {"speaker": "supporter", "annotation": {}, "content": "x"})
        ),
        "record 3, dialog[2].annotation.strategy: missing",
    ),
    (
        "unknown experience",
        raw_record(experience_type="Future Experience"),
        'record 3, experience_type: "Future Experience" is not',
    ),
    (
        "empty emotion",
        raw_record(emotion_type=" "),
        "record 3, emotion_type: must not be empty",
    ),
    (
        "NUL character",
        raw_record(situation="a\x00b"),
        "record 3, situation: contains a NUL character",
    ),
    (
        "unknown speaker",
        raw_record(dialog=_dialog_with(4, {"speaker": "bot", "annotation": {}, "content": "x"})),
        'record 3, dialog[4].speaker: unknown speaker the string "bot"',
    ),
]


@pytest.mark.parametrize(
    ("record", "message"),
    [(r, m) for _, r, m in BAD_THIRD_RECORDS],
    ids=[name for name, _, _ in BAD_THIRD_RECORDS],
)
def test_it_refuses_a_raw_file_with_one_bad_record(
    tmp_path: Path, record: dict[str, Any], message: str
) -> None:
    path = write_raw(tmp_path / "bad.json", [raw_record(), raw_record(situation="other"), record])

    error = _refused(path, "--run", "bad-run")

    assert message in error
    assert "nothing was imported" in error


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r) for r in records)


def _jsonl_record(**overrides: Any) -> dict[str, Any]:
    record = raw_record()
    record["dialog"] = [
        {"text": "Hello", "speaker": "usr"},
        {"text": "Hi, how are you?", "speaker": "sys", "strategy": "Question"},
    ]
    record.update(overrides)
    return record


def test_it_names_the_line_of_a_broken_json_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    lines = (
        _jsonl([_jsonl_record(), _jsonl_record(situation="b")]) + "\n\n" + '{"experience_type": '
    )
    path.write_text(lines, encoding="utf-8")

    error = _refused(path)

    assert "record 3 (line 4): not valid JSON" in error


def test_it_names_record_and_line_of_a_bad_jsonl_item(tmp_path: Path) -> None:
    bad = _jsonl_record(dialog=[{"text": "Hello", "speaker": "usr", "strategy": "Question"}])
    path = tmp_path / "bad.jsonl"
    path.write_text(_jsonl([_jsonl_record(), bad]), encoding="utf-8")

    error = _refused(path, "--format", "jsonl")

    assert "record 2 (line 2), dialog[0].strategy: a usr (seeker) item carries no strategy" in error


def test_it_refuses_a_legacy_label_in_a_raw_file(tmp_path: Path) -> None:
    dialog = _dialog_with(
        1, {"speaker": "supporter", "annotation": {"strategy": "Questions"}, "content": "x"}
    )
    path = write_raw(tmp_path / "raw.json", [raw_record(dialog=dialog)])

    error = _refused(path, "--format", "raw")

    assert 'record 1, dialog[1].annotation.strategy: unknown strategy "Questions"' in error


def test_it_refuses_a_file_that_is_not_an_array(tmp_path: Path) -> None:
    path = tmp_path / "object.json"
    path.write_text(json.dumps(raw_record()), encoding="utf-8")

    error = _refused(path, "--format", "raw")

    assert "JSON array" in error


def test_it_refuses_a_run_name_that_is_not_a_slug(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "ok.json", [raw_record()])

    error = _refused(path, "--run", "my run!")

    assert "slug" in error
