"""The collection run's settings are checked together in the admin."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crowd.admin import CollectionRunForm
from crowd.models import DEMO_RUN_NAME, CollectionRun
from crowd.privacy import delete_personal_data
from crowd.run_form import THRESHOLD_HELP
from tests.cast import ALICE
from tests.crowd.factories import enter, make_run

pytestmark = pytest.mark.django_db


def _form(instance: CollectionRun | None = None, **changes: Any) -> CollectionRunForm:
    return CollectionRunForm(data=_data(instance, **changes), instance=instance)


def _data(instance: CollectionRun | None = None, **changes: Any) -> dict[str, Any]:
    """What the run's admin form posts: its current settings, with `changes`."""
    run = instance or CollectionRun(name="pilot")
    fields = CollectionRunForm.Meta.fields
    data: dict[str, Any] = {}
    for name in fields:
        value = getattr(run, name)
        if isinstance(value, list):  # option lists: one option per line, as staff type them
            value = "\n".join(value)
        elif isinstance(value, dict):
            value = json.dumps(value)
        elif value is None:  # a blank optional number is posted empty
            value = ""
        data[name] = value
    data.update(changes)
    # An unticked box is not posted at all.
    return {name: value for name, value in data.items() if value is not False}


PROLIFIC_CODES = '{"00": "C0FAIL", "01": "C1LEFT", "02": "C2PARTNER", "03": "C3DONE"}'


READY = {
    "site_completion_codes": PROLIFIC_CODES,
    "researcher_name": "The Wellbeing Lab",
    "researcher_contact": "lab@example.org",
}


def test_it_accepts_the_defaults_with_the_study_s_codes_and_researcher() -> None:
    form = _form(**READY)
    assert form.is_valid(), form.errors


def test_it_will_not_open_a_run_whose_consent_names_nobody() -> None:
    form = _form(**{**READY, "researcher_contact": ""})
    assert not form.is_valid()
    assert "names the researcher" in " ".join(form.errors["researcher_contact"])
    form = _form(**{**READY, "consent_text": "About {researcher}: {pay_everything}."})
    assert not form.is_valid()
    assert "Nothing fills {pay_everything}" in " ".join(form.errors["consent_text"])


def test_it_will_not_open_a_prolific_run_without_a_code_for_every_status() -> None:
    form = _form(**{**READY, "site_completion_codes": '{"03": "C3DONE"}'})
    assert not form.is_valid()
    assert "missing: 00, 01, 02" in " ".join(form.errors["site_completion_codes"])
    # Inactive, or MTurk only, it may wait for its codes.
    assert _form(is_active=False).is_valid()
    assert _form(**{**READY, "site_completion_codes": "{}", "accepts_prolific": False}).is_valid()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"situation_min_words": 50, "situation_max_words": 40},
            "situation_max_words",
            "at least the minimum",
        ),
        ({"bonus": "0.5"}, "bonus", "at least 1"),
        ({"problem_options": " \n\n"}, "problem_options", "at least one option"),
        (
            {"emotion_options": "anxiety\nAnxiety \nfear"},
            "emotion_options",
            "'Anxiety' is listed twice",
        ),
        ({"problem_options": "x" * 65}, "problem_options", "at most 64 characters"),
        (
            {"prolific_completion_url": "https://app.prolific.com/x"},
            "prolific_completion_url",
            "{code}",
        ),
        ({"accepts_prolific": False, "accepts_mturk": False}, "accepts_prolific", "one site"),
        ({"site_completion_codes": '{"04": "X"}'}, "site_completion_codes", "status code"),
    ],
)
def test_it_refuses_settings_that_do_not_fit_together(
    changes: dict[str, Any], field: str, message: str
) -> None:
    form = _form(**{**READY, **changes})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_it_renders_the_admin_pages_of_this_area(ada_client: Client) -> None:
    run = make_run("pilot")
    worker = enter(ALICE, run)
    delete_personal_data(worker)
    staff = ada_client
    for url in (
        "/admin/crowd/collectionrun/",
        f"/admin/crowd/collectionrun/{run.pk}/change/",
        "/admin/crowd/worker/",
        f"/admin/crowd/worker/{worker.pk}/change/",
        "/admin/crowd/datadeletion/",
        "/admin/surveys/prechatsurvey/",
        "/admin/surveys/seekerpostchatsurvey/",
        "/admin/surveys/supporterpostchatsurvey/",
    ):
        assert staff.get(url).status_code == 200, url
    body = staff.get(f"/admin/crowd/collectionrun/{run.pk}/change/").content.decode()
    assert "Pre-chat survey (seekers)" in body
    assert "Return to the crowd site" in body


def test_the_run_s_page_shows_an_entry_link_per_site_and_role(ada_client: Client) -> None:
    run = make_run("pilot", accepts_mturk=False)
    body = ada_client.get(f"/admin/crowd/collectionrun/{run.pk}/change/").content.decode()
    links = [line for line in body.splitlines() if 'data-testid="entry-link"' in line]
    assert len(links) == 2
    assert (
        "http://testserver/start/?role=supporter&amp;run=pilot&amp;PROLIFIC_PID={{%PROLIFIC_PID%}}"
        in links[0]
    )
    assert "role=seeker&amp;run=pilot" in links[1]
    run.accepts_mturk = True
    run.save()
    body = ada_client.get(f"/admin/crowd/collectionrun/{run.pk}/change/").content.decode()
    assert body.count('data-testid="entry-link"') == 4
    assert "Amazon Mechanical Turk — seeker" in body


def test_option_lists_are_edited_one_option_per_line() -> None:
    form = _form(
        **READY,
        problem_options="  job crisis \n\nongoing   depression\r\nSleep problems\n",
        emotion_options="anxiety",
    )
    assert form.is_valid(), form.errors
    run = form.save()
    run.refresh_from_db()
    assert run.problem_options == ["job crisis", "ongoing depression", "Sleep problems"]
    assert run.emotion_options == ["anxiety"]
    # Shown back the same way: a textarea with one option per line, not JSON.
    again = CollectionRunForm(instance=run)
    html = str(again["problem_options"])
    assert "<textarea" in html and "job crisis\nongoing depression\nSleep problems" in html
    assert "[" not in html.split(">", 1)[1]
    changed = _form(run, **READY, emotion_options="anxiety\n").changed_data
    assert "problem_options" not in changed and "emotion_options" not in changed


def test_a_refused_option_list_is_shown_back_as_typed(ada_client: Client) -> None:
    run = make_run("pilot", **{k: v for k, v in READY.items() if k != "site_completion_codes"})
    run.site_completion_codes = json.loads(READY["site_completion_codes"])
    run.save()
    typed = "job crisis\nbreakup with partner\nJob  Crisis"
    response = ada_client.post(
        f"/admin/crowd/collectionrun/{run.pk}/change/",
        _data(run, problem_options=typed),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "&#x27;Job Crisis&#x27; is listed twice; give each option once." in body
    assert typed in body  # nothing typed is lost
    run.refresh_from_db()
    assert run.problem_options[0] == "ongoing depression"  # unchanged


def test_the_run_page_saves_lists_typed_in_the_admin(ada_client: Client) -> None:
    run = make_run("pilot", is_active=False)
    response = ada_client.post(
        f"/admin/crowd/collectionrun/{run.pk}/change/",
        _data(run, problem_options="exam stress\nmoving house", emotion_options="fear\nshame"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run.refresh_from_db()
    assert run.problem_options == ["exam stress", "moving house"]
    assert run.emotion_options == ["fear", "shame"]


def test_every_threshold_says_what_it_does_and_its_unit(ada_client: Client) -> None:
    thresholds = {
        "max_wait_seconds": "Seconds",
        "min_turns_to_end": "Turns",
        "min_seconds_to_end": "Seconds",
        "partner_silence_seconds": "Seconds",
        "abandon_after_seconds": "Seconds",
        "feedback_every": "messages",
        "max_message_chars": "characters",
        "situation_min_words": "words",
        "situation_max_words": "words",
        "quiz_max_wrong": "answers",
        "quiz_max_attempts": "attempts",
    }
    assert set(thresholds) == set(THRESHOLD_HELP)
    form = CollectionRunForm()
    for name, unit in thresholds.items():
        assert unit.casefold() in str(form.fields[name].help_text).casefold(), name
    run = make_run("pilot")
    body = ada_client.get(f"/admin/crowd/collectionrun/{run.pk}/change/").content.decode()
    for name in thresholds:
        assert f'id="id_{name}_helptext"' in body, name


def test_a_demo_run_turns_real_only_with_its_own_study() -> None:
    demo = CollectionRun.get_default()
    assert demo.is_demo and demo.name == DEMO_RUN_NAME
    # Open without Prolific codes: nobody returns from the demo to a real study.
    assert _form(demo, site_completion_codes="{}").is_valid()
    form = _form(demo, is_demo=False)
    assert not form.is_valid()
    assert "Give the run its study" in " ".join(form.errors["study"])
    form = _form(demo, **READY, is_demo=False, study="wellbeing-2025")
    assert form.is_valid(), form.errors
    form.save()
    demo.refresh_from_db()
    assert not demo.is_demo and demo.study == "wellbeing-2025"


def test_a_tried_demo_run_stays_a_demo_and_a_used_run_never_becomes_one() -> None:
    demo = CollectionRun.get_default()
    enter(ALICE)  # a link naming no run: she tries the demo
    form = _form(demo, **READY, is_demo=False, study="wellbeing-2025")
    assert not form.is_valid()
    assert "already has 1 worker(s) who tried it" in " ".join(form.errors["is_demo"])

    pilot = make_run("pilot")
    enter(ALICE, pilot)
    form = _form(pilot, **READY, is_demo=True)
    assert not form.is_valid()
    assert "would never be paid" in " ".join(form.errors["is_demo"])
    # A run nobody has joined yet may become a demo.
    assert _form(make_run("trial"), **READY, is_demo=True).is_valid()
