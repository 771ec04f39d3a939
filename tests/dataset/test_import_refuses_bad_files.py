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


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


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
    (
        # Found by the fuzz suite: the layout detection looked an array up in a set.
        "speaker that is an array",
        raw_record(dialog=_dialog_with(1, {"speaker": [], "annotation": {}, "content": "x"})),
        "record 3, dialog[1].speaker: unknown speaker an array",
    ),
    (
        "lone surrogate",
        raw_record(
            dialog=_dialog_with(0, {"speaker": "seeker", "annotation": {}, "content": "a\ud800"})
        ),
        "record 3, dialog[0].content: contains a broken character (an unpaired surrogate)",
    ),
    (
        "lone surrogate in a label",
        raw_record(problem_type="\udfffjob"),
        "record 3, problem_type: contains a broken character",
    ),
    (
        "control character",
        raw_record(seeker_question1="ding\u0007"),
        "record 3, seeker_question1: contains a control character (U+0007)",
    ),
    (
        "whitespace-only content",
        raw_record(
            dialog=_dialog_with(
                2,
                {"speaker": "supporter", "annotation": {"strategy": "Others"}, "content": " \n\t "},
            )
        ),
        "record 3, dialog[2].content: has no visible text",
    ),
    (
        "zero-width content",
        raw_record(
            dialog=_dialog_with(
                0, {"speaker": "seeker", "annotation": {}, "content": "\u200b\u200b\ufeff"}
            )
        ),
        "record 3, dialog[0].content: has no visible text",
    ),
    (
        "5,000-digit score string",
        raw_record(survey_score={"seeker": {"empathy": "9" * 5000}, "supporter": {}}),
        "record 3, survey_score.seeker.empathy: a number of 5000 digits is not between 1 and 5",
    ),
    (
        "deep nesting",
        raw_record(seeker_question1=_nested(40)),
        "record 3, seeker_question1" + "[0]" * 14 + ": nested deeper than 16 levels",
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


# Text no json.dumps makes: placed into a file with a placeholder, as an attacker writes it.
CRAFTED_THIRD_RECORDS: list[tuple[str, str, str]] = [
    (
        "5,000-digit number literal",
        "9" * 5000,
        "record 3, dialog[3].annotation.feedback: a number of 5000 characters",
    ),
    ("huge float", "1e999", "record 3, dialog[3].annotation.feedback: a number too large"),
    ("NaN", "NaN", "record 3, dialog[3].annotation.feedback: NaN is not a number JSON allows"),
    (
        "nesting that crashes the parser",
        "[" * 5000 + "]" * 5000,
        "record 3, dialog[3].annotation.feedback[0][0][0][0][0][0][0][0][0][0][0]: nested deeper",
    ),
    ("nesting never closed", "[" * 100_000, "record 3, dialog[3].annotation.feedback"),
]


@pytest.mark.parametrize(
    ("literal", "message"),
    [(literal, m) for _, literal, m in CRAFTED_THIRD_RECORDS],
    ids=[name for name, _, _ in CRAFTED_THIRD_RECORDS],
)
def test_it_refuses_a_file_crafted_to_crash_the_parser(
    tmp_path: Path, literal: str, message: str
) -> None:
    record = raw_record(dialog=_dialog_with(3, SEEKER_WITH_FEEDBACK_7))
    record["dialog"][3]["annotation"]["feedback"] = "@PLACEHOLDER@"
    text = json.dumps([raw_record(), raw_record(situation="b"), record])
    path = tmp_path / "crafted.json"
    path.write_text(text.replace('"@PLACEHOLDER@"', literal), encoding="utf-8")

    error = _refused(path, "--format", "raw")

    assert message in error
    assert "nothing was imported" in error


def test_it_names_the_record_and_field_of_a_deep_json_line(tmp_path: Path) -> None:
    good = json.dumps(_jsonl_record())
    deep = json.dumps(_jsonl_record(situation="@PLACEHOLDER@"))
    path = tmp_path / "deep.jsonl"
    path.write_text(
        good + "\n" + deep.replace('"@PLACEHOLDER@"', "{" + '"a":{' * 3000), encoding="utf-8"
    )

    error = _refused(path)

    assert "record 2 (line 2), situation" + ".a" * 15 + ": nested deeper than 16" in error
