"""A failed export leaves the target as it was and no temporary file behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management.base import CommandError

from chat.dataset import DatasetError
from chat.dataset.exporting import exportable_conversations, write_export_file
from chat.models import Conversation, Utterance
from tests.dataset.helpers import export_file, import_file, raw_record, write_raw

pytestmark = pytest.mark.django_db


def _break_last_conversation(count: int, tmp_path: Path) -> None:
    """Import `count` conversations, then strip a strategy from the last one's supporter item.

    The database's check constraint lets a NULL strategy through, and the layout cannot
    represent it, so the export fails on that conversation, after earlier chunks were written.
    """
    import_file(
        write_raw(tmp_path / "in.json", [raw_record(situation=str(i)) for i in range(count)])
    )
    last = Conversation.objects.order_by("pk").last()
    Utterance.objects.filter(conversation=last, position=2).update(strategy=None)


def test_it_keeps_the_old_file_when_a_later_chunk_fails(tmp_path: Path) -> None:
    _break_last_conversation(30, tmp_path)
    out = tmp_path / "release"
    out.mkdir()
    target = out / "esconv.json"
    target.write_text("previous release")

    with pytest.raises(DatasetError, match="utterance 2: supporter utterance without a valid"):
        write_export_file(target, exportable_conversations(), chunk_size=10)

    assert target.read_text() == "previous release"
    assert [p.name for p in out.iterdir()] == ["esconv.json"]


def test_it_leaves_no_split_file_when_one_fails(tmp_path: Path) -> None:
    _break_last_conversation(12, tmp_path)
    out = tmp_path / "release"
    out.mkdir()

    with pytest.raises(CommandError, match="nothing was exported"):
        export_file("--output", str(out / "esconv.json"), "--split", "1:1:1")

    assert list(out.iterdir()) == []


def test_it_refuses_a_directory_that_is_a_file(tmp_path: Path) -> None:
    # A path below a regular file cannot be written by anyone, root included.
    import_file(write_raw(tmp_path / "in.json", [raw_record()]))
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file")

    with pytest.raises(CommandError, match="cannot write"):
        export_file("--output", str(blocker / "esconv.json"))

    assert blocker.read_text() == "a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json", "not-a-directory"]


def test_it_refuses_a_missing_directory(tmp_path: Path) -> None:
    import_file(write_raw(tmp_path / "in.json", [raw_record()]))

    with pytest.raises(CommandError, match="cannot write"):
        export_file("--output", str(tmp_path / "no" / "such" / "esconv.json"))

    assert [p.name for p in tmp_path.iterdir()] == ["in.json"]
