"""`manage.py esconv_report` over files and over a collection run, and its refusals."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.dataset.helpers import raw_record, write_raw
from tests.quality.factories import esconv_record, import_records

pytestmark = pytest.mark.django_db

KEYS = {
    "dialogues",
    "utterances",
    "utterances_per_dialogue",
    "words_per_utterance",
    "strategies",
    "problems",
    "emotions",
    "intensity",
    "feedback",
    "strategy_by_progress",
    "transitions",
    "lexical",
}


def _json(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("esconv_report", *args, "--format", "json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_it_reports_a_run_approved_only_unless_asked_for_all() -> None:
    records = [esconv_record(f"approved {i}", feedback={1: 4, 5: 2}) for i in range(3)]
    import_records(records, status="approved", run_name="report-run")
    import_records([esconv_record("pending one")], status="pending", run_name="report-run")
    import_records([esconv_record("elsewhere")], status="approved", run_name="other-run")

    approved = _json("--run", "report-run")
    everything = _json("--run", "report-run", "--status", "all")

    assert set(approved) >= KEYS
    assert approved["dialogues"] == 3 and everything["dialogues"] == 4
    # 8 seeker and 8 supporter lines each (tests.quality.factories.esconv_record).
    assert approved["utterances"] == {"total": 48, "seeker": 24, "supporter": 24}
    assert approved["strategies"]["Question"] == 24
    assert approved["feedback"]["n"] == 6 and approved["feedback"]["mean"] == 3.0


def test_it_reads_several_files_and_folders_of_both_layouts(tmp_path: Path) -> None:
    write_raw(tmp_path / "a.json", [raw_record(situation="a"), raw_record(situation="b")])
    folder = tmp_path / "more"
    folder.mkdir()
    write_raw(folder / "c.json", [raw_record(situation="c")])
    line = {
        "experience_type": "Current Experience",
        "emotion_type": "sadness",
        "problem_type": "job crisis",
        "situation": "d",
        "survey_score": {"seeker": {"initial_emotion_intensity": "5"}, "supporter": {}},
        "dialog": [
            {"text": "hello", "speaker": "usr"},
            {"text": "hi there friend", "speaker": "sys", "strategy": "Question"},
        ],
        **{key: "" for key in ("seeker_question1", "seeker_question2")},
        **{key: "" for key in ("supporter_question1", "supporter_question2")},
    }
    (folder / "d.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")

    report = _json("--file", str(tmp_path / "a.json"), "--file", str(folder))

    assert report["dialogues"] == 4
    assert report["emotions"]["sadness"] == 1


def test_markdown_is_the_default_and_names_the_source(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "a.json", [raw_record()])
    out = StringIO()

    call_command("esconv_report", "--file", str(path), stdout=out)

    text = out.getvalue()
    assert text.startswith(f"# ESConv report: {path}\n")
    assert "Dialogues: **1**" in text and "## Strategy sequences" in text


def test_it_writes_every_figure_as_png_and_svg(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "a.json", [raw_record(), raw_record(situation="other")])
    plots = tmp_path / "plots"
    err = StringIO()

    call_command(
        "esconv_report", "--file", str(path), "--plots", str(plots), stdout=StringIO(), stderr=err
    )

    names = sorted(p.name for p in plots.iterdir())
    assert len(names) == 10 and "strategy_by_progress.svg" in names
    assert (plots / "strategies.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (plots / "strategy_by_progress.svg").read_text()
    assert f"wrote 10 figures to {plots}" in err.getvalue()


def test_an_unknown_run_is_named_in_the_error() -> None:
    with pytest.raises(CommandError, match="no collection run is named 'nope'"):
        call_command("esconv_report", "--run", "nope", stdout=StringIO())


def test_a_bad_record_names_the_file_the_record_and_the_field(tmp_path: Path) -> None:
    bad = raw_record()
    bad["dialog"][1]["annotation"] = {"strategy": "Mind reading"}
    path = write_raw(tmp_path / "bad.json", [raw_record(), bad])

    with pytest.raises(CommandError) as caught:
        call_command("esconv_report", "--file", str(path), stdout=StringIO())

    message = str(caught.value)
    assert str(path) in message and "record 2" in message and "strategy" in message
    assert message.endswith("no report was made")


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file or directory"):
        call_command("esconv_report", "--file", str(tmp_path / "gone.json"), stdout=StringIO())
