"""The staff analytics page: its report, when it is recomputed, downloads, and who may see it."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from analytics import services
from analytics.models import RunReport
from crowd.models import CollectionRun
from tests.quality.factories import esconv_record, import_records

pytestmark = pytest.mark.django_db


def _run(name: str = "page-run", count: int = 3) -> CollectionRun:
    records = [esconv_record(f"{name} {i}", feedback={1: 5}) for i in range(count)]
    import_records(records, status="approved", run_name=name)
    return CollectionRun.objects.get(name=name)


def test_staff_see_the_run_s_tables_and_figures(rita_client: Client) -> None:
    run = _run()

    page = rita_client.get(f"/analytics/runs/{run.name}/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Analytics of page-run" in text
    assert 'data-testid="strategies"' in text and "Question" in text
    assert "over 3 conversations" in text
    assert f"/analytics/runs/{run.name}/figures/strategy_by_progress.svg?status=approved" in text
    assert RunReport.objects.filter(run=run, status="approved").count() == 1


def test_a_report_is_reused_until_the_run_s_set_changes(rita_client: Client) -> None:
    run = _run()
    rita_client.get(f"/analytics/runs/{run.name}/")
    rita_client.get(f"/analytics/runs/{run.name}/")
    assert RunReport.objects.filter(run=run).count() == 1

    import_records([esconv_record("one more")], status="approved", run_name=run.name)
    page = rita_client.get(f"/analytics/runs/{run.name}/")

    assert RunReport.objects.filter(run=run).count() == 2
    assert "over 4 conversations" in page.content.decode()


def test_a_large_run_shows_its_last_report_while_a_new_one_is_computed(
    rita_client: Client, settings: object
) -> None:
    run = _run(count=2)
    rita_client.get(f"/analytics/runs/{run.name}/")
    import_records([esconv_record("later")], status="approved", run_name=run.name)
    settings.ANALYTICS_SYNC_LIMIT = 1  # type: ignore[attr-defined]
    settings.CELERY_TASK_ALWAYS_EAGER = False  # type: ignore[attr-defined]

    page = rita_client.get(f"/analytics/runs/{run.name}/")

    text = page.content.decode()
    assert 'data-testid="report-stale"' in text and "3 conversations now" in text
    assert "over 2 conversations" in text


def test_the_background_task_brings_the_report_up_to_date() -> None:
    from analytics.tasks import refresh_report, refresh_reports

    run = _run(count=2)
    refresh_report(run.pk, "approved")
    assert services.latest(run, "approved").report["dialogues"] == 2  # type: ignore[union-attr]
    import_records([esconv_record("later")], status="approved", run_name=run.name)

    refresh_reports()
    # A run created by an import is closed: the periodic job leaves it as it is.
    assert services.latest(run, "approved").report["dialogues"] == 2  # type: ignore[union-attr]

    CollectionRun.objects.filter(pk=run.pk).update(is_active=True)
    made = refresh_reports()

    assert services.latest(run, "approved").report["dialogues"] == 3  # type: ignore[union-attr]
    # Both statuses of this run were out of date; every other run's reports were current.
    assert made == 2


def test_the_json_and_the_figures_download(rita_client: Client) -> None:
    run = _run()
    rita_client.get(f"/analytics/runs/{run.name}/")

    report = rita_client.get(f"/analytics/runs/{run.name}/report.json?status=approved")
    svg = rita_client.get(f"/analytics/runs/{run.name}/figures/strategies.svg")
    png = rita_client.get(f"/analytics/runs/{run.name}/figures/strategies.png?download=1")

    assert report["Content-Disposition"].startswith("attachment;")
    assert json.loads(report.content)["dialogues"] == 3
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert png.content.startswith(b"\x89PNG")
    assert png["Content-Disposition"] == 'attachment; filename="strategies.png"'


def test_bad_input_gets_a_clear_answer(rita_client: Client) -> None:
    run = _run()
    rita_client.get(f"/analytics/runs/{run.name}/")

    bad_status = rita_client.get(f"/analytics/runs/{run.name}/?status=pending")
    no_run = rita_client.get("/analytics/runs/nope/")
    no_figure = rita_client.get(f"/analytics/runs/{run.name}/figures/nothing.svg")
    bad_format = rita_client.get(f"/analytics/runs/{run.name}/figures/strategies.gif")

    assert bad_status.status_code == 400 and b"Unknown status" in bad_status.content
    assert (no_run.status_code, no_figure.status_code, bad_format.status_code) == (404, 404, 404)


def test_only_staff_may_see_analytics(client: Client) -> None:
    run = _run()

    for path in (
        "/analytics/",
        f"/analytics/runs/{run.name}/",
        f"/analytics/runs/{run.name}/report.json",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
