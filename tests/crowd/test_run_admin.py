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


def test_it_accepts_the_defaults() -> None:
    form = _form()
    assert form.is_valid(), form.errors


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
            {"completion_url_template": "https://app.prolific.com/x"},
            "completion_url_template",
            "{code}",
        ),
        (
            {"completion_mode": "mturk", "completion_url_template": "https://example.org/"},
            "completion_url_template",
            "externalSubmit",
        ),
        ({"site_completion_codes": '{"04": "X"}'}, "site_completion_codes", "status code"),
    ],
)
def test_it_refuses_settings_that_do_not_fit_together(
    changes: dict[str, Any], field: str, message: str
) -> None:
    form = _form(**changes)
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
