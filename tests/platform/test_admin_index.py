"""The admin carries the product's name, and its index links each run's entry links."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from crowd.management.commands.ensure_demo_admin import DEMO_PASSWORD, DEMO_USERNAME
from crowd.models import CollectionRun
from tests.crowd.factories import make_run

pytestmark = pytest.mark.django_db


def test_every_admin_page_carries_the_product_s_name(ada_client: Client) -> None:
    index = ada_client.get("/admin/").content.decode()
    assert "<title>ESC Platform | ESC Platform</title>" in index
    assert '<a href="/admin/">ESC Platform</a>' in index
    assert "Django administration" not in index and "Site administration" not in index
    login = Client().get("/admin/login/").content.decode()
    assert "ESC Platform" in login and "Django administration" not in login


def test_the_index_links_each_run_s_entry_links_and_dashboard(ada_client: Client) -> None:
    demo = CollectionRun.get_default()
    pilot = make_run("pilot", title="Pilot study")
    closed = make_run("archive", is_active=False)
    body = ada_client.get("/admin/").content.decode()
    runs = body[body.index('data-testid="admin-runs"') :]
    runs = runs[: runs.index("</table>")]
    for run in (demo, pilot, closed):
        assert f'href="/admin/crowd/collectionrun/{run.pk}/change/#entry-links"' in runs
        assert f'href="/runs/{run.name}/dashboard/"' in runs
    # Open real runs first, then the demo, then closed runs; the demo says it is one.
    assert runs.index("Pilot study") < runs.index("Demo run") < runs.index("archive")
    assert ">demo</span>" in runs
    # The link lands on the run's page, where the entry links are.
    page = ada_client.get(f"/admin/crowd/collectionrun/{pilot.pk}/change/").content.decode()
    assert 'id="entry-links"' in page and "role=supporter&amp;run=pilot" in page


def test_the_run_list_has_a_link_to_each_run_s_entry_links(ada_client: Client) -> None:
    pilot = make_run("pilot")
    body = ada_client.get("/admin/crowd/collectionrun/").content.decode()
    assert f'href="/admin/crowd/collectionrun/{pilot.pk}/change/#entry-links"' in body


def test_make_run_s_demo_admin_finds_the_demo_run_from_the_index(settings: object) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]
    out = StringIO()
    call_command("ensure_demo_admin", "--base-url", "http://127.0.0.1:8000", stdout=out)
    assert f"username: {DEMO_USERNAME}" in out.getvalue()
    client = Client()
    assert client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    demo = CollectionRun.get_default()
    assert demo.is_demo
    body = client.get("/admin/").content.decode()
    assert f'href="/admin/crowd/collectionrun/{demo.pk}/change/#entry-links"' in body
    change = client.get(f"/admin/crowd/collectionrun/{demo.pk}/change/").content.decode()
    assert "role=seeker&amp;run=demo" in change
