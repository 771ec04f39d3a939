"""`load_tutorial` loads the YAML content by key, all or nothing, with errors that say where."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from crowd import vocabulary
from tutorial.models import SubTask, TutorialIntro
from tutorial.services import DEFAULT_CONTENT_PATH

pytestmark = pytest.mark.django_db


def _content() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONTENT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "content.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        SubTask.objects.order_by("key").values_list("key", "order", "title", "correct_option")
    )


def test_it_loads_eleven_subtasks_matching_the_vocabulary() -> None:
    call_command("load_tutorial", verbosity=0)

    keys = list(SubTask.objects.order_by("order").values_list("key", flat=True))
    assert len(keys) == 11
    assert set(keys) == {s.key for s in vocabulary.STAGES} | set(vocabulary.STRATEGY_NAMES)
    for subtask in SubTask.objects.all():
        assert 3 <= len(subtask.options) <= 4
        assert 0 <= subtask.correct_option < len(subtask.options)
        assert subtask.example_seeker and subtask.example_supporter and subtask.explanation
    assert TutorialIntro.objects.count() == 1


def test_it_is_idempotent_and_updates_by_key(tmp_path: Path) -> None:
    call_command("load_tutorial", verbosity=0)
    first = {s.key: s.pk for s in SubTask.objects.all()}
    data = _content()
    data["subtasks"][0]["title"] = "Exploring the problem"
    data["subtasks"].reverse()  # reordering must not trip the unique order

    call_command("load_tutorial", _write(tmp_path, data), verbosity=0)

    assert {s.key: s.pk for s in SubTask.objects.all()} == first
    exploration = SubTask.objects.get(key="exploration")
    assert exploration.title == "Exploring the problem"
    assert exploration.order == 11
    assert TutorialIntro.objects.count() == 1


def test_it_keeps_admin_edits_with_if_empty() -> None:
    call_command("load_tutorial", verbosity=0)
    SubTask.objects.filter(key="Question").update(title="Edited in the admin")

    call_command("load_tutorial", "--if-empty", verbosity=0)

    assert SubTask.objects.get(key="Question").title == "Edited in the admin"


def _broken(mutate: Any) -> dict[str, Any]:
    data = copy.deepcopy(_content())
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["subtasks"][1].pop("question"),
            "sub-task 2 ('Question'): missing field 'question'",
        ),
        (
            lambda d: d["subtasks"][2].update(answer=7),
            "sub-task 3 ('Restatement or Paraphrasing'): field 'answer' is 7",
        ),
        (
            lambda d: d["subtasks"][2].update(answer=True),
            "field 'answer' must be the 0-based index",
        ),
        (
            lambda d: d["subtasks"][4].update(options=["only", "two"]),
            "sub-task 5 ('Reflection of feelings'): field 'options'",
        ),
        (
            lambda d: d["subtasks"][0].update(key="Exploration"),
            "sub-task 1 ('Exploration'): field 'key' 'Exploration' is not a stage key",
        ),
        (
            lambda d: d["subtasks"][6].update(key="Approval and Reassurance"),
            "is not a strategy name",
        ),
        (lambda d: d["subtasks"].pop(), "content: no sub-task for 'Others'"),
        (
            lambda d: d["subtasks"].append(copy.deepcopy(d["subtasks"][1])),
            "sub-task 12 ('Question'): field 'key' 'Question' appears more than once",
        ),
        (
            lambda d: d["subtasks"][8]["example"].update(seeker="  "),
            "sub-task 9 ('Providing Suggestions') example: field 'seeker'",
        ),
        (lambda d: d["subtasks"][3].update(colour="blue"), "unknown field 'colour'"),
        (lambda d: d["intro"].pop("body"), "intro: missing field 'body'"),
    ],
)
def test_it_refuses_bad_content_naming_item_and_field_and_writes_nothing(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    call_command("load_tutorial", verbosity=0)
    SubTask.objects.filter(key="Question").update(title="Edited")
    before = _snapshot()

    with pytest.raises(CommandError) as excinfo:
        call_command("load_tutorial", _write(tmp_path, _broken(mutate)), verbosity=0)

    assert message in str(excinfo.value)
    assert _snapshot() == before


def test_it_writes_nothing_when_a_late_item_is_bad_on_an_empty_database(tmp_path: Path) -> None:
    data = _broken(lambda d: d["subtasks"][10].update(explanation=""))

    with pytest.raises(CommandError, match=r"sub-task 11 \('Others'\): field 'explanation'"):
        call_command("load_tutorial", _write(tmp_path, data), verbosity=0)

    assert not SubTask.objects.exists()
    assert not TutorialIntro.objects.exists()


def test_it_reports_unreadable_files_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("load_tutorial", str(tmp_path / "missing.yaml"), verbosity=0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("intro: [unclosed\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("load_tutorial", str(bad), verbosity=0)
