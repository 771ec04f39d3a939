"""Changes of what workers are paid are in the audit trail, from the admin or a run file, with
who made them; other changes are not."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from crowd.models import CollectionRun
from staff.models import AuditEvent
from tests.cast import ADA, account
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db


def test_a_pay_change_in_the_admin_is_recorded_with_who_made_it(ada_client: Any) -> None:
    run = make_run(name="pilot", researcher_name="R", researcher_contact="r@example.org")
    page = ada_client.get(f"/admin/crowd/collectionrun/{run.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False}
    data |= {"problem_options": "\n".join(run.problem_options)}
    data |= {"emotion_options": "\n".join(run.emotion_options)}
    data |= {"site_completion_codes": "{}", "settlement_policy": "{}", "bonus": "2.00"}
    data |= {"is_active": "", "accepts_prolific": "on", "accepts_mturk": "on"}
    data = {k: v for k, v in data.items() if v != ""}
    response = ada_client.post(f"/admin/crowd/collectionrun/{run.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    [event] = AuditEvent.objects.all()
    assert (event.action, event.run, event.user) == ("pay_change", "pilot", account(ADA))
    assert event.detail == {"via": "admin", "changed": {"bonus": ["1.50", "2.00"]}}


def test_a_run_file_that_changes_pay_is_recorded_and_one_that_does_not_is_not(
    tmp_path: Path,
) -> None:
    make_run(name="pilot", is_active=False)
    path = tmp_path / "pilot.yaml"
    path.write_text("name: pilot\nfeedback_every: 3\n")
    call_command("apply_run", str(path), stdout=StringIO())
    assert not AuditEvent.objects.exists()
    path.write_text("name: pilot\nbase_pay: '1.20'\ncurrency: EUR\n")
    call_command("apply_run", str(path), stdout=StringIO())
    [event] = AuditEvent.objects.all()
    assert event.detail["changed"] == {"base_pay": ["1.00", "1.20"], "currency": ["GBP", "EUR"]}
    assert event.detail["via"] == "run file" and event.user is None
    assert CollectionRun.objects.get(name="pilot").currency == "EUR"
