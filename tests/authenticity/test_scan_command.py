"""`manage.py authenticity_scan` over files, folders and collection runs, and its refusals."""

from __future__ import annotations

import itertools
import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun
from tests.cast import DAVE, GUS, Actor, extra
from tests.chat.factories import converse, end_as, make_pair
from tests.crowd.factories import quick_run
from tests.dataset.helpers import raw_record, write_raw
from tests.quality.factories import esconv_record, import_records

pytestmark = pytest.mark.django_db

_seekers = itertools.count(1)

SCRIPT = "I completely understand how you feel and I am here to listen to you"
OTHER = "Have you thought about talking to a friend or a family member about this problem"
# Nine words: too short to be a duplicate, long enough (8 words) to be a templated opening.
OPENING = "Hello my friend, I am Gus, how are you?"


def _with_lines(record: dict[str, Any], lines: dict[int, str]) -> dict[str, Any]:
    """`record` with the dialog items at these positions rewritten (speakers unchanged)."""
    for position, text in lines.items():
        record["dialog"][position]["content"] = text
    return record


def _record(number: int, lines: dict[int, str] | None = None) -> dict[str, Any]:
    """RAW_RECORD (seeker, supporter, supporter, seeker, supporter) with its own seeker line 3:
    RAW_RECORD's is ten words long, so copies of it would be duplicates of each other."""
    own = {3: f"I have to deal with many people at work, {number}"}
    return _with_lines(raw_record(situation=str(number)), own | (lines or {}))


def _scan(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("authenticity_scan", *args, "--format", "json", stdout=out, stderr=StringIO())
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def _places(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (f["conversation"], f["position"], f["speaker"], f["kind"], f["matches"])
        for f in result["flags"]
    ]


def test_a_file_s_flags_name_conversation_position_speaker_kind_score_and_matches(
    tmp_path: Path,
) -> None:
    records = [_record(0), _record(1, {2: SCRIPT}), _record(2, {2: SCRIPT})]
    path = write_raw(tmp_path / "a.json", records)

    result = _scan("--file", str(path))

    assert list(result) == ["conversations", "utterances", "flagged_utterances", "flags"]
    assert result["conversations"] == 3 and result["utterances"] == 15
    assert result["flagged_utterances"] == 2
    assert result["flags"] == [
        {
            "conversation": 1,
            "position": 2,
            "speaker": "supporter",
            "kind": "duplicate",
            "score": 1.0,
            "matches": [[2, 2]],
        },
        {
            "conversation": 2,
            "position": 2,
            "speaker": "supporter",
            "kind": "duplicate",
            "score": 1.0,
            "matches": [[1, 2]],
        },
    ]


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


def test_indexes_run_across_files_and_folders_in_the_given_order(tmp_path: Path) -> None:
    first = write_raw(tmp_path / "first.json", [_record(0), _record(1)])
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.jsonl").write_text(
        _jsonl_line(("usr", "hello"), ("sys", SCRIPT))
        + _jsonl_line(("sys", "hello there"), ("usr", "hi"), ("sys", OTHER)),
        encoding="utf-8",
    )
    write_raw(folder / "a.json", [_record(2, {4: OTHER, 2: SCRIPT})])
    (folder / "notes.txt").write_text("not a dataset file", encoding="utf-8")

    result = _scan("--file", str(first), "--file", str(folder))

    # first.json: 0, 1; then the folder's files sorted by name: a.json: 2; b.jsonl: 3, 4.
    assert result["conversations"] == 5 and result["utterances"] == 20
    assert _places(result) == [
        (2, 2, "supporter", "duplicate", [[3, 1]]),
        (2, 4, "supporter", "duplicate", [[4, 2]]),
        (3, 1, "supporter", "duplicate", [[2, 2]]),
        (4, 2, "supporter", "duplicate", [[2, 4]]),
    ]


def test_the_text_report_gives_the_rate_and_the_flagged_messages(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "a.json", [_record(0, {2: SCRIPT}), _record(1, {2: SCRIPT})])
    out = StringIO()

    call_command("authenticity_scan", "--file", str(path), stdout=out)

    assert out.getvalue() == (
        "Conversations: 2, utterances: 10, flagged: 2\n"
        "Supporter utterances of at least 10 words: 2, duplicates: 2 (100.0%)\n"
        "  duplicate: 2\n"
        f"conversation 0, utterance 2 (supporter): duplicate 1.00, 1 other(s) — {SCRIPT}\n"
        f"conversation 1, utterance 2 (supporter): duplicate 1.00, 1 other(s) — {SCRIPT}\n"
    )


def test_min_words_and_threshold_are_options(tmp_path: Path) -> None:
    changed = SCRIPT.replace("here", "ready")
    records = [
        _record(1, {1: "Hi.", 2: SCRIPT, 4: "I am always here for you"}),
        _record(2, {1: "Hello!", 2: changed, 4: "I am always here for you!"}),
    ]
    path = write_raw(tmp_path / "a.json", records)

    assert _scan("--file", str(path))["flags"] == []
    loose = _scan("--file", str(path), "--min-words", "6", "--threshold", "0.5")
    found = [(f["conversation"], f["position"], f["score"]) for f in loose["flags"]]
    assert [flag for flag in found if flag[1] in (2, 4)] == [
        (0, 2, 0.6),  # 9 of the two lines' 15 distinct shingles are shared
        (0, 4, 1.0),
        (1, 2, 0.6),
        (1, 4, 1.0),
    ]


def _chat(run: CollectionRun, supporter: Actor, first: str, later: str = "") -> int:
    """A live chat in `run`: a new seeker and `supporter` take turns three times each (the
    supporter's lines `first`, `later` or nine words), then the seeker ends it."""
    pair = make_pair(run, seeker=extra(vocabulary.SEEKER, next(_seekers)), supporter=supporter)
    texts = {0: first} | ({1: later} if later else {})
    converse(pair, seeker_words=[4, 4, 4], supporter_words=[9, 9, 9], supporter_texts=texts)
    end_as(pair, Conversation.EndReason.FINISHED)
    return pair.conversation.pk


def _runs_with_two_supporters() -> dict[str, int]:
    """Gus supports in four runs and opens three of those chats alike; Dave in two, alike too.
    One long line is in a chat of each. Returns conversation ids."""
    # A study whose people may come back in each run, as a weekly collection would allow.
    once_each = CollectionRun.Participation.ONCE_PER_RUN
    runs = [quick_run(f"week-{n}", participation=once_each) for n in range(4)]
    return {
        "gus 0": _chat(runs[0], GUS, OPENING),
        "gus 1": _chat(runs[1], GUS, OPENING.upper(), later=SCRIPT),
        "gus 2": _chat(runs[2], GUS, "Hi.", later=OPENING),  # his first line is what counts
        "gus 3": _chat(runs[3], GUS, OPENING + " Tell me everything."),
        "dave 0": _chat(runs[0], DAVE, OPENING, later=SCRIPT),
        "dave 1": _chat(runs[1], DAVE, OPENING),
    }


def test_runs_are_scanned_by_conversation_id_with_templated_openings() -> None:
    ids = _runs_with_two_supporters()
    quick_run("empty")

    runs = [arg for n in range(4) for arg in ("--run", f"week-{n}")]
    result = _scan(*runs, "--run", "empty", "--run", "week-0")

    # In the order of the --run options (a repeated one once), each run's by id.
    gus = [ids["gus 0"], ids["gus 1"], ids["gus 3"]]
    dave = ids["dave 0"]
    assert result["conversations"] == 6 and result["utterances"] == 6 * 6
    assert _places(result) == [
        (gus[0], 1, "supporter", "templated_opening", [[gus[1], 1], [gus[2], 1]]),
        (dave, 3, "supporter", "duplicate", [[gus[1], 3]]),
        (gus[1], 1, "supporter", "templated_opening", [[gus[0], 1], [gus[2], 1]]),
        (gus[1], 3, "supporter", "duplicate", [[dave, 3]]),
        (gus[2], 1, "supporter", "templated_opening", [[gus[0], 1], [gus[1], 1]]),
    ]
    assert [f["score"] for f in result["flags"]] == [0.75, 1.0, 0.75, 1.0, 0.75]
    assert result["flagged_utterances"] == 5


def test_one_run_has_one_chat_per_supporter_so_no_templated_opening() -> None:
    _runs_with_two_supporters()

    result = _scan("--run", "week-0")

    assert [f["kind"] for f in result["flags"]] == []


def test_every_ended_conversation_of_a_run_is_scanned_whatever_its_quality_status() -> None:
    records = [esconv_record(f"record {n}") for n in range(3)]
    for record in records[1:]:
        record["dialog"][3]["content"] = SCRIPT
    import_records(records[:2], status="approved", run_name="imported")
    import_records(records[2:], status="pending", run_name="imported")
    import_records([esconv_record("elsewhere")], status="approved", run_name="other")
    ids = [c.pk for c in Conversation.objects.filter(run__name="imported").order_by("pk")]

    result = _scan("--run", "imported")

    assert result["conversations"] == 3
    assert _places(result) == [
        (ids[1], 3, "supporter", "duplicate", [[ids[2], 3]]),
        (ids[2], 3, "supporter", "duplicate", [[ids[1], 3]]),
    ]


def test_files_have_no_workers_so_no_templated_openings(tmp_path: Path) -> None:
    records = [_record(i, {1: OPENING}) for i in range(5)]

    result = _scan("--file", str(write_raw(tmp_path / "a.json", records)))

    assert result["flags"] == []


def test_an_unknown_run_is_named_in_the_error() -> None:
    with pytest.raises(CommandError, match="no collection run is named 'nope'"):
        call_command("authenticity_scan", "--run", "nope", stdout=StringIO())


def test_a_bad_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    good = write_raw(tmp_path / "good.json", [_record(0, {2: SCRIPT}), _record(1, {2: SCRIPT})])
    bad_record = raw_record()
    bad_record["dialog"][1]["annotation"] = {"strategy": "Mind reading"}
    bad = write_raw(tmp_path / "bad.json", [bad_record])
    for fmt in ("json", "text"):
        out = StringIO()
        with pytest.raises(CommandError, match=r"bad\.json.*nothing was scanned"):
            call_command(
                "authenticity_scan",
                "--file",
                str(good),
                "--file",
                str(bad),
                "--format",
                fmt,
                stdout=out,
            )
        assert out.getvalue() == ""


@pytest.mark.parametrize("name", ["missing.json", "empty-folder"])
def test_a_missing_file_or_an_empty_folder_is_named(tmp_path: Path, name: str) -> None:
    if name == "empty-folder":
        (tmp_path / name).mkdir()
    with pytest.raises(CommandError, match=re.escape(name)):
        call_command("authenticity_scan", "--file", str(tmp_path / name), stdout=StringIO())


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "garbage.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match=r"garbage\.json"):
        call_command("authenticity_scan", "--file", str(path), stdout=StringIO())


def test_a_source_is_required_and_only_one(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "a.json", [raw_record()])
    with pytest.raises(CommandError):
        call_command("authenticity_scan", stdout=StringIO())
    with pytest.raises(CommandError, match="not allowed with"):
        call_command("authenticity_scan", "--run", "x", "--file", str(path), stdout=StringIO())


@pytest.mark.parametrize(
    ("option", "value"), [("--min-words", "2"), ("--threshold", "0"), ("--threshold", "1.5")]
)
def test_out_of_range_options_are_refused(tmp_path: Path, option: str, value: str) -> None:
    path = write_raw(tmp_path / "a.json", [raw_record()])
    with pytest.raises(CommandError, match=re.escape(option)):
        call_command("authenticity_scan", "--file", str(path), option, value, stdout=StringIO())
