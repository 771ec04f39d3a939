"""`load_tutorial` loads the YAML content and its item banks by key, all or nothing, with
errors that say where; the shipped content keeps the rules that let feedback be shown."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from crowd import vocabulary
from tutorial.content import DEFAULT_CONTENT_PATH, explanation_problem, normal_form
from tutorial.models import QuizItem, SubTask, TutorialIntro

pytestmark = pytest.mark.django_db


def _content() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONTENT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "content.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _snapshot() -> list[tuple[Any, ...]]:
    return list(SubTask.objects.order_by("key").values_list("key", "order", "title")) + list(
        QuizItem.objects.order_by("key").values_list("key", "question", "correct_option")
    )


def test_it_loads_eleven_subtasks_with_banks_of_at_least_three_items() -> None:
    call_command("load_tutorial", verbosity=0)

    keys = list(SubTask.objects.order_by("order").values_list("key", flat=True))
    assert len(keys) == 11
    assert set(keys) == {s.key for s in vocabulary.STAGES} | set(vocabulary.STRATEGY_NAMES)
    for subtask in SubTask.objects.all():
        assert subtask.example_seeker and subtask.example_supporter
        bank = list(subtask.items.all())
        assert len(bank) >= 3
        for item in bank:
            assert len(item.options) == 4 and 0 <= item.correct_option < 4
            assert item.is_active and item.explanation
    assert TutorialIntro.objects.count() == 1


def test_no_explanation_names_or_quotes_its_right_option_and_no_option_repeats() -> None:
    call_command("load_tutorial", verbosity=0)
    seen: dict[str, str] = {}
    for item in QuizItem.objects.all():
        assert explanation_problem(item.explanation, item.correct_text) is None, item.key
        assert normal_form(item.correct_text) not in normal_form(item.explanation), item.key
        for option in item.options:
            assert seen.setdefault(normal_form(option), item.key) == item.key, option


def test_explanation_check_catches_a_quote_or_a_named_label() -> None:
    assert explanation_problem("The answer is 'Others', the catch-all.", "Others")
    assert explanation_problem(
        "Don't ask: 'Did you argue with your manager?'", "Did you argue with your manager?"
    )
    assert explanation_problem(
        "Because it is brief, relevant to their situation and kind.",
        "It is brief, relevant to their situation, and returns the focus to them",
    )
    assert explanation_problem("Sharing a little of yourself helps.", "Others") is None


def test_it_is_idempotent_and_updates_by_key(tmp_path: Path) -> None:
    call_command("load_tutorial", verbosity=0)
    first = {s.key: s.pk for s in SubTask.objects.all()}
    items = {i.key: i.pk for i in QuizItem.objects.all()}
    data = _content()
    data["subtasks"][0]["title"] = "Exploring the problem"
    data["subtasks"][0]["items"][1]["question"] = "A reworded question?"
    data["subtasks"].reverse()  # reordering must not trip the unique order

    call_command("load_tutorial", _write(tmp_path, data), verbosity=0)
    call_command("load_tutorial", _write(tmp_path, data), verbosity=0)

    assert {s.key: s.pk for s in SubTask.objects.all()} == first
    assert {i.key: i.pk for i in QuizItem.objects.all()} == items
    exploration = SubTask.objects.get(key="exploration")
    assert exploration.title == "Exploring the problem"
    assert exploration.order == 11
    assert QuizItem.objects.get(key="exploration-2").question == "A reworded question?"
    assert TutorialIntro.objects.count() == 1


def test_an_item_the_file_drops_is_retired_not_deleted(tmp_path: Path) -> None:
    call_command("load_tutorial", verbosity=0)
    data = _content()
    data["subtasks"][1]["items"].append(
        {
            "key": "question-4",
            "question": "Which question invites the longest answer?",
            "options": ["Are you okay?", "Was it Monday?", "Tell me how it went.", "Did he call?"],
            "answer": 2,
            "explanation": "Invitations to describe leave the most room.",
        }
    )
    call_command("load_tutorial", _write(tmp_path, data), verbosity=0)
    assert QuizItem.objects.get(key="question-4").is_active

    call_command("load_tutorial", verbosity=0)

    assert not QuizItem.objects.get(key="question-4").is_active
    assert QuizItem.objects.filter(is_active=True).count() == 33


def test_if_empty_keeps_admin_edits_and_adds_only_new_items(tmp_path: Path, capsys) -> None:
    call_command("load_tutorial", verbosity=0)
    SubTask.objects.filter(key="Question").update(title="Edited in the admin")
    QuizItem.objects.filter(key="question-1").update(question="Edited question?")
    QuizItem.objects.filter(key="question-3").delete()

    call_command("load_tutorial", "--if-empty")

    assert SubTask.objects.get(key="Question").title == "Edited in the admin"
    assert QuizItem.objects.get(key="question-1").question == "Edited question?"
    assert QuizItem.objects.filter(key="question-3").exists()
    assert "1 new quiz items added" in capsys.readouterr().out
    call_command("load_tutorial", "--if-empty")
    assert "nothing loaded" in capsys.readouterr().out


def test_if_empty_gives_sub_tasks_made_elsewhere_the_files_banks() -> None:
    SubTask.objects.create(
        order=1,
        kind=SubTask.Kind.STRATEGY,
        key="Others",
        title="Others",
        definition="Greetings.",
        example_seeker="Hi",
        example_supporter="Hello there!",
    )

    call_command("load_tutorial", "--if-empty", verbosity=0)

    assert SubTask.objects.count() == 1
    assert SubTask.objects.get().title == "Others"
    assert set(QuizItem.objects.values_list("key", flat=True)) == {
        "others-1",
        "others-2",
        "others-3",
    }


def _broken(mutate: Any) -> dict[str, Any]:
    data = copy.deepcopy(_content())
    mutate(data)
    return data


def _item(data: dict[str, Any], subtask: int, item: int) -> dict[str, Any]:
    return data["subtasks"][subtask]["items"][item]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: _item(d, 1, 0).pop("question"),
            "sub-task 2 ('Question') item 1 ('question-1'): missing field 'question'",
        ),
        (
            lambda d: _item(d, 2, 1).update(answer=7),
            "sub-task 3 ('Restatement or Paraphrasing') item 2 "
            "('restatement-or-paraphrasing-2'): field 'answer' is 7",
        ),
        (
            lambda d: _item(d, 2, 0).update(answer=True),
            "field 'answer' must be the 0-based index",
        ),
        (
            lambda d: _item(d, 4, 0).update(options=["only", "two", "three"]),
            "sub-task 5 ('Reflection of feelings') item 1 ('reflection-of-feelings-1'): "
            "field 'options' must be a list of 4 texts",
        ),
        (
            lambda d: _item(d, 4, 0).update(options=["a", "b", "A.", "c"]),
            "has the same option twice",
        ),
        (
            lambda d: _item(d, 10, 0).update(explanation="It fits none of the others."),
            "sub-task 11 ('Others') item 1 ('others-1'): field 'explanation' it repeats the "
            "correct option ('it fits none of the')",
        ),
        (
            lambda d: _item(d, 0, 2).update(
                options=[*_item(d, 1, 0)["options"][:1], "x", "y", "z"]
            ),
            "item 'question-1': option 'Did you argue with your manager?' is also an option of "
            "item 'exploration-3'",
        ),
        (
            lambda d: _item(d, 1, 2).update(explanation="Unlike 'What time did this happen?'."),
            "item 'question-3': field 'explanation' quotes 'What time did this happen?', an "
            "option of item 'comforting-1'",
        ),
        (
            lambda d: _item(d, 0, 2).update(key="question-1"),
            "item 'question-1': field 'key' appears more than once",
        ),
        (lambda d: _item(d, 0, 2).update(key="Exploration 3"), "lowercase letters, digits"),
        (
            lambda d: d["subtasks"][6]["items"].pop(),
            "sub-task 7 ('Affirmation and Reassurance'): field 'items' must be a list of at "
            "least 3 quiz items",
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
        (lambda d: _item(d, 3, 0).update(hint="x"), "unknown field 'hint'"),
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


def test_bad_content_is_refused_by_if_empty_too(tmp_path: Path) -> None:
    call_command("load_tutorial", verbosity=0)
    data = _broken(lambda d: _item(d, 0, 0).update(answer=9))
    with pytest.raises(CommandError, match="field 'answer' is 9"):
        call_command("load_tutorial", _write(tmp_path, data), "--if-empty", verbosity=0)


def test_it_writes_nothing_when_a_late_item_is_bad_on_an_empty_database(tmp_path: Path) -> None:
    data = _broken(lambda d: _item(d, 10, 2).update(explanation=""))

    with pytest.raises(CommandError, match=r"sub-task 11 \('Others'\) item 3 \('others-3'\)"):
        call_command("load_tutorial", _write(tmp_path, data), verbosity=0)

    assert not SubTask.objects.exists()
    assert not QuizItem.objects.exists()
    assert not TutorialIntro.objects.exists()


def test_it_reports_unreadable_files_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("load_tutorial", str(tmp_path / "missing.yaml"), verbosity=0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("intro: [unclosed\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("load_tutorial", str(bad), verbosity=0)
