"""Runs as files: dump_run writes every setting the admin edits, apply_run re-creates the run
exactly from it or updates the keys it changes, and a bad file is refused naming each key,
with nothing saved."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from crowd import run_files
from crowd.models import CollectionRun
from crowd.run_form import CollectionRunForm
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db

CODES = {"00": "C0FAIL", "01": "C1LEFT", "02": "C2PART", "03": "C3DONE"}
CONSENT = "## About this study\r\n\r\nYou will chat for about {chat_minutes} minutes.\r\n- Be kind"


def _pilot() -> CollectionRun:
    return make_run(
        name="pilot",
        title="Pilot, March",
        study="esc-2027",
        participation=CollectionRun.Participation.ONCE_PER_RUN,
        allow_device_switch=True,
        researcher_name="Dr. Example",
        researcher_contact="lab@example.org",
        expected_minutes=35,
        consent_text=CONSENT,
        problem_options=["job crisis", "breakup with partner", "ongoing depression"],
        emotion_options=["anxiety", "sadness"],
        situation_min_words=15,
        quiz_max_wrong=1,
        max_wait_seconds=420,
        feedback_every=3,
        paste_policy="refuse",
        paste_max_chars=25,
        help_resources="Anywhere | Emergency services | Call your local emergency number |",
        base_pay=Decimal("2.25"),
        bonus=Decimal("1.75"),
        currency="EUR",
        accepts_mturk=False,
        site_completion_codes=CODES,
        mturk_sandbox=True,
    )


def _settings(run: CollectionRun) -> dict[str, Any]:
    names = [key for key in run_files.keys() if key != "name"]  # noqa: SIM118 (a function)
    return model_to_dict(run, fields=names)


def _dump(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.yaml"
    call_command("dump_run", name, "--output", str(path), stderr=StringIO())
    return path


def _apply(path: Path, *extra: str) -> str:
    out = StringIO()
    call_command("apply_run", str(path), *extra, stdout=out)
    return out.getvalue().strip()


def test_a_run_is_re_created_exactly_from_its_file(tmp_path: Path) -> None:
    pilot = _pilot()
    before = _settings(pilot)
    path = _dump("pilot", tmp_path)
    pilot.delete()
    assert _apply(path) == "created run 'pilot'"
    again = CollectionRun.objects.get(name="pilot")
    assert _settings(again) == before
    assert again.consent_text == CONSENT  # line ends and all
    assert _dump("pilot", tmp_path).read_text() == path.read_text()


def test_the_file_holds_every_setting_the_admin_edits() -> None:
    form_fields = set(CollectionRunForm().fields)
    assert set(run_files.keys()) == form_fields
    text = run_files.dump(_pilot())
    data = yaml.safe_load(text)
    assert list(data) == run_files.keys()
    assert data["base_pay"] == "2.25" and data["site_completion_codes"] == CODES
    assert "# Pay\nbase_pay: '2.25'" in text  # each setting under its admin section
    assert 'consent_text: "## About this study' in text


def test_multi_line_texts_are_written_as_blocks() -> None:
    run = _pilot()
    run.help_resources = "Anywhere | A | Call 1 |\nUnited Kingdom | B | Call 2 |"
    text = run_files.dump(run)
    assert "help_resources: |-\n  Anywhere | A | Call 1 |\n  United Kingdom | B | Call 2 |" in text


def test_applying_a_changed_file_updates_only_what_changed(tmp_path: Path) -> None:
    _pilot()
    path = _dump("pilot", tmp_path)
    text = path.read_text().replace("max_wait_seconds: 420", "max_wait_seconds: 300")
    path.write_text(text.replace("currency: EUR", "currency: USD"))
    assert _apply(path, "--dry-run") == "would have updated run 'pilot': max_wait_seconds, currency"
    assert CollectionRun.objects.get(name="pilot").max_wait_seconds == 420
    assert _apply(path) == "updated run 'pilot': max_wait_seconds, currency"
    run = CollectionRun.objects.get(name="pilot")
    assert (run.max_wait_seconds, run.currency) == (300, "USD")
    assert _apply(path) == "run 'pilot' is unchanged"


def test_a_short_file_keeps_the_rest_or_takes_the_defaults(tmp_path: Path) -> None:
    _pilot()
    path = tmp_path / "short.yaml"
    path.write_text("name: pilot\nfeedback_every: 4\n")
    _apply(path)
    pilot = CollectionRun.objects.get(name="pilot")
    assert (pilot.feedback_every, pilot.max_wait_seconds, pilot.currency) == (4, 420, "EUR")
    path.write_text(
        "name: main\nresearcher_name: Dr. Example\nresearcher_contact: lab@example.org\n"
        "accepts_prolific: false\n"
    )
    assert _apply(path) == "created run 'main'"
    main = CollectionRun.objects.get(name="main")
    given = {"researcher_name": "Dr. Example", "researcher_contact": "lab@example.org"}
    assert _settings(main) == {**_settings(CollectionRun()), **given, "accepts_prolific": False}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("max_wait_seconds: 420", "max_wait_seconds: soon"),
            "max_wait_seconds: Enter a whole number.",
        ),
        (
            ("situation_min_words: 15", "situation_min_words: 500"),
            "situation_max_words: Must be at least",
        ),
        (("bonus: '1.75'", "bonus: '0.5'"), "bonus: The bonus multiplier must be at least 1."),
        (("mturk_sandbox: true", "mturk_sandbox: 'yes'"), "mturk_sandbox: give true or false"),
        (("paste_policy: refuse", "paste_policy: shout"), "paste_policy: Select a valid choice."),
        (("- anxiety", "- 42"), "emotion_options: give a list of texts"),
        (("currency: EUR", "currency: EUR\ncolour: blue"), "colour: not a run setting"),
        (("'00': C0FAIL", "'07': C0FAIL"), "site_completion_codes: Give a JSON object"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key_and_nothing_is_saved(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    _pilot()
    before = _settings(CollectionRun.objects.get(name="pilot"))
    path = _dump("pilot", tmp_path)
    text = path.read_text()
    old, new = change
    assert old in text, old
    path.write_text(text.replace(old, new).replace("title: Pilot, March", "title: Renamed"))
    with pytest.raises(CommandError) as error:
        _apply(path)
    assert "run 'pilot' not applied" in str(error.value)
    assert expected in str(error.value)
    assert _settings(CollectionRun.objects.get(name="pilot")) == before  # the title too


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: pilot\n  title: [oops\n", "not valid YAML (line 2"),
        ("- name: pilot\n", "a run file is a mapping"),
        ("title: No name\n", "name: every run file names its run"),
    ],
)
def test_a_file_that_is_not_a_run_file_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CommandError, match=expected.replace("(", r"\(").replace("[", r"\[")):
        _apply(path)
    assert not CollectionRun.objects.filter(name="pilot").exists()


def test_missing_files_and_runs_are_named(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"nowhere\.yaml: cannot read it"):
        _apply(tmp_path / "nowhere.yaml")
    with pytest.raises(CommandError, match="no collection run is named 'ghost'"):
        call_command("dump_run", "ghost")
    _pilot()
    with pytest.raises(CommandError, match=r"the folder .*missing does not exist"):
        call_command("dump_run", "pilot", "--output", str(tmp_path / "missing" / "pilot.yaml"))


def test_dump_run_prints_to_standard_output_without_output() -> None:
    _pilot()
    out = StringIO()
    call_command("dump_run", "pilot", stdout=out)
    assert yaml.safe_load(out.getvalue())["name"] == "pilot"


def test_the_admin_edits_the_same_data_the_file_holds(ada_client: Any, tmp_path: Path) -> None:
    pilot = _pilot()
    page = ada_client.get(f"/admin/crowd/collectionrun/{pilot.pk}/change/")
    assert page.status_code == 200
    path = _dump("pilot", tmp_path)
    path.write_text(path.read_text().replace("max_wait_seconds: 420", "max_wait_seconds: 360"))
    _apply(path)
    page = ada_client.get(f"/admin/crowd/collectionrun/{pilot.pk}/change/").content.decode()
    assert 'name="max_wait_seconds" value="360"' in page
