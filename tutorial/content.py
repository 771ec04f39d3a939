"""The tutorial content: validating it (YAML file, admin forms) and loading it by key.

The file holds the intro and, per sub-task, its lesson and a bank of quiz items
(docs/workers.md, "Tutorial content"). Two rules keep the quiz measuring after feedback:

- an explanation never names or quotes its item's correct option (`explanation_problem`), nor
  any option of any other item, so showing it right after the answer hands over no key;
- no option text appears in two items (`_check_across_items`), so knowing which texts were
  right or wrong in one attempt says nothing about another attempt's items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crowd import vocabulary
from esc_platform import yaml_text
from tutorial.models import QuizItem, SubTask, TutorialIntro

DEFAULT_CONTENT_PATH = Path(settings.BASE_DIR) / "tutorial" / "content" / "esc_framework.yaml"

OPTIONS_PER_ITEM = 4
MIN_ITEMS_PER_BANK = 3
# An explanation may not repeat this many consecutive words of the correct option.
QUOTE_WORDS = 5
_ITEM_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words, with inner apostrophes ("don't") but not the quotes around them ('like this').
_WORD = re.compile(r"\w+(?:'\w+)*")


class ContentError(ValueError):
    """The tutorial content is unusable; the message names the item and the field."""


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    skipped: bool = False  # nothing was written
    kept: bool = False  # content was there and kept (--if-empty); only new items were added


_INTRO_FIELDS = {"heading", "body"}
_SUBTASK_FIELDS = {"key", "kind", "title", "definition", "example", "items"}
_EXAMPLE_FIELDS = {"seeker", "supporter"}
_ITEM_FIELDS = {"key", "question", "options", "answer", "explanation"}


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def normal_form(text: str) -> str:
    """An option's text for comparisons: case, punctuation and spacing ignored."""
    return " ".join(words(text))


def explanation_problem(explanation: str, correct: str) -> str | None:
    """Why this explanation gives away the correct option, or None when it does not."""
    said, key = words(explanation), words(correct)
    size = min(len(key), QUOTE_WORDS)
    if size == 0:
        return None
    runs = {tuple(key[i : i + size]) for i in range(len(key) - size + 1)}
    for i in range(len(said) - size + 1):
        if tuple(said[i : i + size]) in runs:
            quoted = " ".join(said[i : i + size])
            return f"it repeats the correct option ({quoted!r}); explain the concept instead"
    return None


def options_problem(options: Any) -> str | None:
    """Why this is not a usable list of options, or None."""
    if not isinstance(options, list) or len(options) != OPTIONS_PER_ITEM:
        return f"must be a list of {OPTIONS_PER_ITEM} texts"
    if not all(isinstance(o, str) and o.strip() for o in options):
        return "every option must be a non-empty text"
    if len({normal_form(o) for o in options}) != len(options):
        return "has the same option twice"
    return None


def _text(value: Any, where: str, field: str, *, max_length: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{where}: field '{field}' must be a non-empty text")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise ContentError(f"{where}: field '{field}' is longer than {max_length} characters")
    return text


def _check_fields(item: Any, where: str, expected: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ContentError(f"{where}: must be a mapping of fields")
    missing = expected - set(item)
    if missing:
        raise ContentError(f"{where}: missing field '{sorted(missing)[0]}'")
    unknown = set(item) - expected
    if unknown:
        raise ContentError(f"{where}: unknown field '{sorted(unknown)[0]}'")
    return item


def _where(raw: Any, label: str) -> str:
    key = raw.get("key") if isinstance(raw, dict) else None
    return label + (f" ({key!r})" if isinstance(key, str) else "")


def _parse_item(raw: Any, where: str, position: int) -> dict[str, Any]:
    item = _check_fields(raw, where, _ITEM_FIELDS)
    key = _text(item["key"], where, "key", max_length=80)
    if not _ITEM_KEY.match(key):
        raise ContentError(f"{where}: field 'key' must be lowercase letters, digits and dashes")
    problem = options_problem(item["options"])
    if problem:
        raise ContentError(f"{where}: field 'options' {problem}")
    options = [option.strip() for option in item["options"]]
    answer = item["answer"]
    # bool is an int in Python; `answer: true` is a typo, not option 1.
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise ContentError(f"{where}: field 'answer' must be the 0-based index of an option")
    if not 0 <= answer < len(options):
        raise ContentError(
            f"{where}: field 'answer' is {answer}, but options are numbered 0 to {len(options) - 1}"
        )
    explanation = _text(item["explanation"], where, "explanation")
    problem = explanation_problem(explanation, options[answer])
    if problem:
        raise ContentError(f"{where}: field 'explanation' {problem}")
    return {
        "key": key,
        "position": position,
        "question": _text(item["question"], where, "question"),
        "options": options,
        "correct_option": answer,
        "explanation": explanation,
    }


def _check_key(key: str, kind: Any, where: str) -> None:
    stage_keys = {stage.key for stage in vocabulary.STAGES}
    if kind == SubTask.Kind.STAGE:
        if key not in stage_keys:
            raise ContentError(
                f"{where}: field 'key' {key!r} is not a stage key "
                f"(expected one of {sorted(stage_keys)})"
            )
    elif kind == SubTask.Kind.STRATEGY:
        if key not in vocabulary.STRATEGY_NAMES:
            raise ContentError(
                f"{where}: field 'key' {key!r} is not a strategy name "
                f"(expected one of {sorted(vocabulary.STRATEGY_NAMES)})"
            )
    else:
        raise ContentError(f"{where}: field 'kind' must be 'stage' or 'strategy'")


def _parse_subtask(raw: Any, where: str, position: int) -> dict[str, Any]:
    item = _check_fields(raw, where, _SUBTASK_FIELDS)
    key = _text(item["key"], where, "key", max_length=64)
    _check_key(key, item["kind"], where)
    example = _check_fields(item["example"], f"{where} example", _EXAMPLE_FIELDS)
    bank = item["items"]
    if not isinstance(bank, list) or len(bank) < MIN_ITEMS_PER_BANK:
        raise ContentError(
            f"{where}: field 'items' must be a list of at least {MIN_ITEMS_PER_BANK} quiz items"
        )
    return {
        "key": key,
        "order": position,
        "kind": item["kind"],
        "title": _text(item["title"], where, "title", max_length=120),
        "definition": _text(item["definition"], where, "definition"),
        "example_seeker": _text(example["seeker"], f"{where} example", "seeker"),
        "example_supporter": _text(example["supporter"], f"{where} example", "supporter"),
        "items": [
            _parse_item(raw_item, _where(raw_item, f"{where} item {number}"), number)
            for number, raw_item in enumerate(bank, start=1)
        ],
    }


def quoted_option(explanation: str, options: dict[str, str]) -> tuple[str, str] | None:
    """(item key, option) of an option this explanation names or quotes, if any."""
    for option, key in options.items():
        if explanation_problem(explanation, option):
            return key, option
    return None


def _check_across_items(subtasks: list[dict[str, Any]]) -> None:
    """Item keys and option texts are unique, and no explanation quotes any item's option."""
    items = [item for subtask in subtasks for item in subtask["items"]]
    item_keys: set[str] = set()
    options: dict[str, str] = {}  # normal form -> key of the item that has it
    texts: dict[str, str] = {}  # option text -> key of the item that has it
    for item in items:
        if item["key"] in item_keys:
            raise ContentError(f"item {item['key']!r}: field 'key' appears more than once")
        item_keys.add(item["key"])
        for option in item["options"]:
            other = options.setdefault(normal_form(option), item["key"])
            if other != item["key"]:
                raise ContentError(
                    f"item {item['key']!r}: option {option!r} is also an option of "
                    f"item {other!r}; every option text may appear in one item only"
                )
            texts[option] = item["key"]
    for item in items:
        # Feedback is read in one attempt and options in the next: an explanation that quoted
        # another item's option would hand its key (or a wrong option) to the next attempt.
        quoted = quoted_option(item["explanation"], texts)
        if quoted is not None:
            raise ContentError(
                f"item {item['key']!r}: field 'explanation' quotes {quoted[1]!r}, an option of "
                f"item {quoted[0]!r}; explain the concept in other words"
            )


def parse_content(data: Any) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Validate raw content (parsed YAML); return the intro fields and the sub-tasks' fields."""
    root = _check_fields(data, "content", {"intro", "subtasks"})
    intro_raw = _check_fields(root["intro"], "intro", _INTRO_FIELDS)
    intro = {
        "heading": _text(intro_raw["heading"], "intro", "heading", max_length=200),
        "body": _text(intro_raw["body"], "intro", "body"),
    }
    raw_subtasks = root["subtasks"]
    if not isinstance(raw_subtasks, list) or not raw_subtasks:
        raise ContentError("content: field 'subtasks' must be a non-empty list")
    subtasks: list[dict[str, Any]] = []
    for position, raw in enumerate(raw_subtasks, start=1):
        where = _where(raw, f"sub-task {position}")
        subtask = _parse_subtask(raw, where, position)
        if any(s["key"] == subtask["key"] for s in subtasks):
            raise ContentError(f"{where}: field 'key' {subtask['key']!r} appears more than once")
        subtasks.append(subtask)
    missing = ({s.key for s in vocabulary.STAGES} | set(vocabulary.STRATEGY_NAMES)) - {
        s["key"] for s in subtasks
    }
    if missing:
        raise ContentError(f"content: no sub-task for {sorted(missing)[0]!r}")
    _check_across_items(subtasks)
    return intro, subtasks


def read_content_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return yaml_text.load(text)
    except yaml.YAMLError as exc:
        raise ContentError(f"{path} is not valid YAML: {exc}") from exc


def _save_intro(intro: dict[str, str]) -> None:
    current = TutorialIntro.objects.order_by("pk").first()
    if current is None:
        TutorialIntro.objects.create(**intro)
    else:
        TutorialIntro.objects.filter(pk=current.pk).update(**intro, updated_at=timezone.now())


def _save_subtasks(subtasks: list[dict[str, Any]]) -> tuple[int, int]:
    # Move existing rows out of the way first, so reordering cannot hit the unique `order`.
    offset = 100_000
    for pk, order in SubTask.objects.values_list("pk", "order"):
        SubTask.objects.filter(pk=pk).update(order=order + offset)
    created = updated = 0
    in_file: list[int] = []
    for fields in subtasks:
        lesson = {k: v for k, v in fields.items() if k not in ("key", "items")}
        subtask, was_created = SubTask.objects.update_or_create(key=fields["key"], defaults=lesson)
        created, updated = created + was_created, updated + (not was_created)
        for item in fields["items"]:
            values = {k: v for k, v in item.items() if k != "key"}
            _, item_created = QuizItem.objects.update_or_create(
                key=item["key"], defaults={**values, "subtask": subtask, "is_active": True}
            )
            created, updated = created + item_created, updated + (not item_created)
            in_file.append(item["key"])
    leftover = SubTask.objects.filter(order__gte=offset).first()
    if leftover is not None:
        # Keys come from the vocabulary, so this only happens if it changed under old data.
        raise ContentError(f"content: existing sub-task {leftover.key!r} is not in the file")
    # Items the file no longer has are retired, not deleted: answers point at them.
    QuizItem.objects.exclude(key__in=in_file).update(is_active=False)
    return created, updated


def _add_missing_items(subtasks: list[dict[str, Any]]) -> int:
    """Create the file's items that are not in the database yet, for sub-tasks that exist."""
    existing = {s.key: s for s in SubTask.objects.all()}
    known = set(QuizItem.objects.values_list("key", flat=True))
    new = [
        QuizItem(subtask=existing[fields["key"]], **item)
        for fields in subtasks
        if fields["key"] in existing
        for item in fields["items"]
        if item["key"] not in known
    ]
    QuizItem.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def load_content(data: Any, *, if_empty: bool = False) -> LoadResult:
    """Create or update the intro, the sub-tasks and their items by key, all or nothing.

    With `if_empty`, content already present is kept as it is (admin edits survive); only
    quiz items whose keys are not in the database yet are added to the existing sub-tasks.
    """
    intro, subtasks = parse_content(data)
    if if_empty and SubTask.objects.exists():
        added = _add_missing_items(subtasks)
        return LoadResult(created=added, updated=0, skipped=added == 0, kept=True)
    _save_intro(intro)
    created, updated = _save_subtasks(subtasks)
    return LoadResult(created=created, updated=updated)


def load_content_file(path: Path = DEFAULT_CONTENT_PATH, *, if_empty: bool = False) -> LoadResult:
    return load_content(read_content_file(path), if_empty=if_empty)
