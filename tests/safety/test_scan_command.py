"""`manage.py safety_scan` over files, folders and collection runs, and its refusals."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation
from tests.dataset.helpers import raw_record, write_raw
from tests.quality.factories import esconv_record, import_records

pytestmark = pytest.mark.django_db

PILLS = "I have been saving up my pills for a while now"
INSULT = "honestly you are such an idiot"
FIGURE = "this deadline is killing me"


def _with_lines(record: dict[str, Any], lines: dict[int, str]) -> dict[str, Any]:
    """`record` with the dialog items at these positions rewritten (speakers unchanged)."""
    for position, text in lines.items():
        record["dialog"][position]["content"] = text
    return record


def _scan(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("safety_scan", *args, "--format", "json", stdout=out, stderr=StringIO())
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def _jsonl_line(*texts: tuple[str, str]) -> str:
    """One JSON-lines ESConv record whose dialog is these (usr|sys, text) items."""
    record = {
        "experience_type": "Current Experience",
        "emotion_type": "sadness",
        "problem_type": "job crisis",
        "situation": "a jsonl record",
        "survey_score": {"seeker": {"initial_emotion_intensity": "5"}, "supporter": {}},
        "dialog": [
            {"text": text, "speaker": who, **({"strategy": "Question"} if who == "sys" else {})}
            for who, text in texts
        ],
        **{key: "" for key in ("seeker_question1", "seeker_question2")},
        **{key: "" for key in ("supporter_question1", "supporter_question2")},
    }
    return json.dumps(record) + "\n"


def test_a_file_s_flags_name_conversation_position_speaker_category_and_score(
    tmp_path: Path,
) -> None:
    # RAW_RECORD's dialog: seeker, supporter, supporter, seeker, supporter.
    quiet = raw_record()
    flagged = _with_lines(raw_record(situation="b"), {3: PILLS, 4: INSULT, 0: FIGURE})
    path = write_raw(tmp_path / "a.json", [quiet, flagged])

    result = _scan("--file", str(path))

    assert set(result) == {"conversations", "messages", "flagged_conversations", "flags"}
    assert result["conversations"] == 2 and result["messages"] == 10
    assert result["flagged_conversations"] == 1
    assert result["flags"] == [
        {
            "conversation": 1,
            "position": 3,
            "speaker": "seeker",
            "category": "suicide_self_harm",
            "score": 0.95,
        },
        {
            "conversation": 1,
            "position": 4,
            "speaker": "supporter",
            "category": "abusive",
            "score": 0.95,
        },
    ]


def test_indexes_run_across_files_and_folders_in_the_given_order(tmp_path: Path) -> None:
    first = write_raw(tmp_path / "first.json", [raw_record(), raw_record(situation="2")])
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.jsonl").write_text(
        _jsonl_line(("usr", "hello"), ("sys", "hi, how are you?"))
        + _jsonl_line(("sys", "hello there"), ("usr", "my husband hits me when he drinks")),
        encoding="utf-8",
    )
    write_raw(folder / "a.json", [_with_lines(raw_record(situation="3"), {3: PILLS})])
    (folder / "notes.txt").write_text("not a dataset file", encoding="utf-8")

    result = _scan("--file", str(first), "--file", str(folder))

    # first.json: 0, 1; then the folder's files sorted by name: a.json: 2; b.jsonl: 3, 4.
    assert result["conversations"] == 5
    assert [(f["conversation"], f["position"], f["category"]) for f in result["flags"]] == [
        (2, 3, "suicide_self_harm"),
        (4, 1, "harmed_by_others"),
    ]
    assert result["flagged_conversations"] == 2


def test_the_text_report_gives_the_flag_rate_and_each_flagged_message(tmp_path: Path) -> None:
    records = [raw_record(), _with_lines(raw_record(situation="b"), {3: PILLS})]
    path = write_raw(tmp_path / "a.json", records)
    out = StringIO()

    call_command("safety_scan", "--file", str(path), stdout=out)

    text = out.getvalue()
    assert text.startswith(
        "Conversations: 2, flagged: 1 (50.0%)\nMessages: 10, flagged: 1 (10.0%)\n"
    )
    assert "  suicide_self_harm: 1\n" in text
    assert f"conversation 1, utterance 3 (seeker): suicide_self_harm 0.95 — {PILLS}\n" in text


def test_nothing_flagged_is_a_clean_report(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "a.json", [_with_lines(raw_record(), {3: FIGURE})])

    result = _scan("--file", str(path))

    assert result == {"conversations": 1, "messages": 5, "flagged_conversations": 0, "flags": []}


def test_a_run_is_scanned_by_conversation_id_whatever_its_quality_status() -> None:
    flagged = esconv_record("flagged one")
    _with_lines(flagged, {2: PILLS, 5: INSULT})
    import_records([esconv_record("quiet one"), flagged], status="approved", run_name="scan-run")
    pending = _with_lines(esconv_record("pending one"), {4: "my husband hits me when he drinks"})
    import_records([pending], status="pending", run_name="scan-run")
    import_records(
        [_with_lines(esconv_record("elsewhere"), {0: PILLS})], status="approved", run_name="other"
    )
    ids = {c.situation: c.pk for c in Conversation.objects.all()}

    result = _scan("--run", "scan-run")

    assert result["conversations"] == 3 and result["flagged_conversations"] == 2
    assert [
        (f["conversation"], f["position"], f["speaker"], f["category"]) for f in result["flags"]
    ] == [
        (ids["flagged one"], 2, "seeker", "suicide_self_harm"),
        (ids["flagged one"], 5, "supporter", "abusive"),
        (ids["pending one"], 4, "seeker", "harmed_by_others"),
    ]


def test_an_unknown_run_is_named_in_the_error() -> None:
    with pytest.raises(CommandError, match="no collection run is named 'nope'"):
        call_command("safety_scan", "--run", "nope", stdout=StringIO())


def test_a_bad_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    good = write_raw(tmp_path / "good.json", [_with_lines(raw_record(), {3: PILLS})])
    bad_record = raw_record()
    bad_record["dialog"][1]["annotation"] = {"strategy": "Mind reading"}
    bad = write_raw(tmp_path / "bad.json", [bad_record])
    out = StringIO()

    with pytest.raises(CommandError, match=r"bad\.json.*nothing was scanned"):
        call_command("safety_scan", "--file", str(good), "--file", str(bad), stdout=out)

    assert out.getvalue() == ""


@pytest.mark.parametrize("name", ["missing.json", "empty-folder"])
def test_a_missing_file_or_an_empty_folder_is_named(tmp_path: Path, name: str) -> None:
    if name == "empty-folder":
        (tmp_path / name).mkdir()
    with pytest.raises(CommandError, match=re.escape(name)):
        call_command("safety_scan", "--file", str(tmp_path / name), stdout=StringIO())


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "garbage.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match=r"garbage\.json"):
        call_command("safety_scan", "--file", str(path), stdout=StringIO())


def test_a_source_is_required() -> None:
    with pytest.raises(CommandError):
        call_command("safety_scan", stdout=StringIO())
