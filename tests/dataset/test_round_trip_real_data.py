"""The real ESConv files go in and come back out unchanged (only documented label mapping)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.models import Conversation
from crowd import vocabulary
from tests.dataset.helpers import export_file, import_file, snapshot

pytestmark = [pytest.mark.esconv, pytest.mark.django_db]

SPLITS = ("train", "valid", "test")
QUESTION_KEYS = (
    "seeker_question1",
    "seeker_question2",
    "supporter_question1",
    "supporter_question2",
)


def test_it_gives_back_the_released_splits_line_for_line(esconv_dir: Path, tmp_path: Path) -> None:
    for split in SPLITS:
        source = esconv_dir / "hf_release_splits" / f"{split}.json"
        assert "imported" in import_file(source, "--run", split)

    assert Conversation.objects.count() == 1300
    for split in SPLITS:
        source = esconv_dir / "hf_release_splits" / f"{split}.json"
        target = tmp_path / f"{split}.json"
        export_file("--format", "jsonl", "--run", split, "--output", str(target))
        expected_lines = source.read_text(encoding="utf-8").split("\n")
        got_lines = target.read_text(encoding="utf-8").split("\n")
        assert len(got_lines) == len(expected_lines)
        for number, (got, expected) in enumerate(zip(got_lines, expected_lines), start=1):
            assert json.loads(got) == json.loads(expected), f"{split} line {number}"
        # Same encoding, separators and no trailing newline as the release.
        assert target.read_bytes() == source.read_bytes()


def test_it_keeps_the_zero_supporter_relevance_of_the_release(esconv_dir: Path) -> None:
    import_file(esconv_dir / "hf_release_splits" / "test.json", "--run", "test")

    zero = Conversation.objects.filter(supporter_survey__seeker_detail=0)
    assert zero.count() == 1


def test_it_gives_back_every_field_of_the_legacy_file(esconv_dir: Path, tmp_path: Path) -> None:
    source = esconv_dir / "thu-coai_repo" / "FailedESConv.json"
    out = import_file(source, "--run", "failed", "--status", "pending")
    assert "(legacy)" in out
    assert "imported 196" in out
    target = tmp_path / "failed.json"
    export_file("--status", "all", "--run", "failed", "--output", str(target))

    original = json.loads(source.read_text(encoding="utf-8"))
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert len(exported) == len(original) == 196
    speakers = {"speaker": vocabulary.SEEKER, "listener": vocabulary.SUPPORTER}
    for index, (before, after) in enumerate(zip(original, exported, strict=True)):
        assert list(after) == [*before, *QUESTION_KEYS], index
        assert all(after[key] == "" for key in QUESTION_KEYS)
        for key in ("experience_type", "emotion_type", "problem_type", "situation"):
            assert after[key] == before[key]
        assert after["survey_score"] == before["survey_score"]
        assert len(after["dialog"]) == len(before["dialog"])
        for old, new in zip(before["dialog"], after["dialog"], strict=True):
            assert new["speaker"] == speakers[old["speaker"]]
            assert new["content"] == old["content"]  # trailing newlines kept
            annotation = dict(old["annotation"])
            if "strategy" in annotation:
                strategy = annotation["strategy"]
                annotation["strategy"] = vocabulary.LEGACY_STRATEGY_MAP.get(strategy, strategy)
            assert new["annotation"] == annotation
            old.update(new)  # the mapped original, for the byte comparison below
        before.update({key: "" for key in QUESTION_KEYS})
    # Written exactly as the original file is (json.dumps with indent=1, ASCII-escaped).
    assert target.read_text(encoding="utf-8") == json.dumps(original, indent=1)


def test_it_adds_nothing_when_the_same_file_is_imported_twice(esconv_dir: Path) -> None:
    source = esconv_dir / "hf_release_splits" / "valid.json"
    import_file(source, "--run", "valid")
    before = snapshot()

    out = import_file(source, "--run", "valid")

    assert "imported 0, skipped 195 already present" in out
    assert snapshot() == before


def test_it_recognises_its_own_raw_export_of_the_legacy_file(
    esconv_dir: Path, tmp_path: Path
) -> None:
    import_file(esconv_dir / "thu-coai_repo" / "FailedESConv.json", "--run", "failed")
    target = tmp_path / "failed.json"
    export_file("--run", "failed", "--output", str(target))
    before = snapshot()

    out = import_file(target, "--run", "failed-again")

    assert "(raw): imported 0, skipped 196" in out
    assert snapshot()["conversations"] == before["conversations"]
