"""Collection runs as YAML files (docs/run-files.md): `dump_run` writes one, `apply_run` creates
or updates a run from one.

A file holds every setting the admin's run form edits, one key a setting under the admin's
own field names, in the admin's order, with its section as a comment. Applying a file goes
through that same form (crowd.run_form.CollectionRunForm), so a file is refused for exactly
what the admin refuses, with the key named; nothing is saved unless every key is valid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml
from django.db import models, transaction
from django.forms.models import model_to_dict

from crowd.models import CollectionRun
from crowd.run_form import CollectionRunForm
from esc_platform import yaml_text
from staff import audit

NAME = "name"
# Edited in the admin one option a line; a list in the file.
OPTION_LISTS = ("problem_options", "emotion_options")


class RunFileError(Exception):
    """A run file that cannot be applied: each problem as (key, message)."""

    def __init__(self, run: str, problems: list[tuple[str, str]]) -> None:
        self.run = run
        self.problems = problems
        lines = [f"{key}: {message}" if key else message for key, message in problems]
        super().__init__(f"run file for {run or 'a run'}: " + "; ".join(lines))


def sections() -> list[tuple[str, list[str]]]:
    """The admin's sections and their fields, in its order: the file's layout."""
    from crowd.admin import CollectionRunAdmin  # the admin's layout is the file's

    out: list[tuple[str, list[str]]] = []
    for title, options in CollectionRunAdmin.fieldsets or ():
        names: list[str] = []
        for entry in options["fields"]:
            names += list(entry) if isinstance(entry, tuple | list) else [entry]
        out.append((str(title or "The run"), names))
    return out


def keys() -> list[str]:
    """Every key of a run file, in order."""
    return [name for _, names in sections() for name in names]


def _model_field(name: str) -> models.Field[Any, Any]:
    found = CollectionRun._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


# --- Writing -------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Multi-line texts (consent, help resources) as literal blocks, readable in a file."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _file_value(value: Any) -> Any:
    """A setting as the file holds it: amounts as text, so that "1.50" stays 1.50."""
    if isinstance(value, Decimal | str):
        return str(value)  # a choice's enum member is written as its value
    return value


def dump(run: CollectionRun) -> str:
    """The run file of `run`."""
    values = model_to_dict(run, fields=keys())
    out = [
        f"# Collection run {run.name!r}: every setting, as the admin edits it.",
        "# Apply with: python manage.py apply_run THIS_FILE (docs/run-files.md).",
    ]
    for title, names in sections():
        out += ["", f"# {title}"]
        for name in names:
            item = {name: _file_value(values[name])}
            text = yaml.dump(item, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
            out.append(text.rstrip("\n"))
    return "\n".join(out) + "\n"


# --- Reading -------------------------------------------------------------------------------


def load(text: str) -> dict[str, Any]:
    """The settings of a run file's text; RunFileError when it is not a run file at all."""
    try:
        data = yaml_text.load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RunFileError("", [("", f"not valid YAML ({where}{problem})")]) from error
    if not isinstance(data, dict):
        raise RunFileError("", [("", "a run file is a mapping of setting names to values")])
    name = data.get(NAME)
    if not isinstance(name, str) or not name.strip():
        raise RunFileError("", [(NAME, "every run file names its run")])
    known = set(keys())
    unknown = [str(key) for key in data if key not in known]
    if unknown:
        problems = [(key, "not a run setting") for key in unknown]
        raise RunFileError(name, [*problems, ("", f"the settings are: {', '.join(keys())}")])
    return data


@dataclass
class Applied:
    run: CollectionRun
    created: bool
    changed: list[str] = field(default_factory=list)


def _form_value(name: str, value: Any) -> Any:
    """A file's value as the admin form receives it from a browser."""
    model_field = _model_field(name)
    if name in OPTION_LISTS:
        return value  # the form's option-list field takes a list as it is
    if isinstance(model_field, models.JSONField):
        return json.dumps(value)
    if isinstance(model_field, models.DecimalField) and isinstance(value, float):
        return str(value)  # 1.5, not the float's binary expansion
    if value is None:
        return ""
    return value


def _type_problems(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """What the form would misread: a checkbox takes any text as ticked."""
    for name, value in data.items():
        if isinstance(_model_field(name), models.BooleanField) and not isinstance(value, bool):
            yield name, f"give true or false, not {value!r}"
        elif name in OPTION_LISTS and not (
            isinstance(value, list) and all(isinstance(option, str) for option in value)
        ):
            yield name, "give a list of texts"


def apply(data: dict[str, Any], *, dry_run: bool = False, user: Any = None) -> Applied:
    """Create or update the run `data` names; keys it leaves out keep their value (or the
    default, for a new run). RunFileError naming every bad key, with nothing saved."""
    name = data[NAME]
    problems = list(_type_problems(data))
    if problems:
        raise RunFileError(name, problems)
    existing = CollectionRun.objects.filter(name=name).first()
    current = model_to_dict(existing or CollectionRun(name=name), fields=keys())
    values = {**current, **data}
    form_data = {key: _form_value(key, value) for key, value in values.items()}
    # A checkbox that is not ticked is not sent at all.
    form_data = {key: value for key, value in form_data.items() if value is not False}
    form = CollectionRunForm(data=form_data, instance=existing)
    if not form.is_valid():
        order = {key: i for i, key in enumerate(keys())}
        errors = sorted(form.errors.items(), key=lambda item: order.get(item[0], -1))
        raise RunFileError(
            name,
            [(key if key in order else "", " ".join(map(str, texts))) for key, texts in errors],
        )
    # Compared here, not by form.changed_data: that needs the browser's hidden initial values.
    changed = [k for k in keys() if form.cleaned_data[k] != current[k]] if existing else []
    if dry_run:
        return Applied(existing or form.instance, existing is None, changed)
    # From the database: validating the form has already put the file's values on `existing`.
    stored = CollectionRun.objects.filter(pk=existing.pk).first() if existing else None
    before = audit.pay_values(stored) if stored is not None else {}
    with transaction.atomic():
        run = form.save()
        audit.record_pay_change(before, run, user=user, via="run file")
    return Applied(run, existing is None, changed)
