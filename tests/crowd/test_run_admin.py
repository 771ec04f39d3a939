"""The collection run's settings are checked together in the admin."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crowd.admin import CollectionRunForm
from crowd.models import CollectionRun
from crowd.privacy import delete_personal_data
from tests.cast import ALICE
from tests.crowd.factories import enter, make_run

pytestmark = pytest.mark.django_db


def _form(**changes: Any) -> CollectionRunForm:
    run = CollectionRun(name="pilot")
    fields = CollectionRunForm.Meta.fields
    data: dict[str, Any] = {}
    for name in fields:
        value = getattr(run, name)
        if isinstance(value, (list, dict)):
            value = json.dumps(value)
        data[name] = value
    data.update(changes)
    return CollectionRunForm(data=data)


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
        ({"problem_options": '["job crisis", " "]'}, "problem_options", "non-empty JSON list"),
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
