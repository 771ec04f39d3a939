"""--split deals whole conversations into train/valid/test, the same way every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from tests.dataset.helpers import export_file, import_file, raw_record, write_raw

pytestmark = pytest.mark.django_db


def _situations(path: Path) -> list[str]:
    return [c["situation"] for c in json.loads(path.read_text())]


def _split(tmp_path: Path, folder: str, seed: str) -> dict[str, list[str]]:
    out = tmp_path / folder
    out.mkdir()
    export_file("--output", str(out / "esconv.json"), "--split", "6:2:2", "--seed", seed)
    assert sorted(p.name for p in out.iterdir()) == [
        "esconv.test.json",
        "esconv.train.json",
        "esconv.valid.json",
    ]
    return {name: _situations(out / f"esconv.{name}.json") for name in ("train", "valid", "test")}


def test_it_splits_reproducibly_by_whole_conversations(tmp_path: Path) -> None:
    names = [f"conversation {i:02d}" for i in range(20)]
    import_file(write_raw(tmp_path / "in.json", [raw_record(situation=n) for n in names]))

    first = _split(tmp_path, "a", "7")
    again = _split(tmp_path, "b", "7")
    other = _split(tmp_path, "c", "8")

    assert first == again
    assert first != other
    assert [len(first[name]) for name in ("train", "valid", "test")] == [12, 4, 4]
    assert sorted(first["train"] + first["valid"] + first["test"]) == names
    for part in first.values():
        assert part == sorted(part)  # import order kept inside each file


def test_it_names_jsonl_split_files_after_the_output(tmp_path: Path) -> None:
    import_file(write_raw(tmp_path / "in.json", [raw_record(situation=str(i)) for i in range(5)]))

    export_file("--format", "jsonl", "--output", str(tmp_path / "esc.jsonl"), "--split", "3:1:1")

    assert (tmp_path / "esc.train.jsonl").is_file()
    assert (tmp_path / "esc.valid.jsonl").is_file()
    assert (tmp_path / "esc.test.jsonl").is_file()
    assert not (tmp_path / "esc.jsonl").exists()


@pytest.mark.parametrize("split", ["6:2", "a:b:c", "0:0:0"])
def test_it_refuses_a_malformed_split(tmp_path: Path, split: str) -> None:
    with pytest.raises(CommandError, match="three whole numbers"):
        export_file("--output", str(tmp_path / "x.json"), "--split", split)
    assert list(tmp_path.iterdir()) == []
