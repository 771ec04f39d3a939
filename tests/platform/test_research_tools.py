"""Staff find every research tool from the admin index and the landing page; others do not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

TOOLS = [
    "/admin/crowd/collectionrun/",
    "/tutorial/funnel/",
    "/chat/live/",
    "/quality/review/",
    "/quality/relabelling/assign/",
    "/quality/relabelling/agreement/",
    "/quality/releases/",
]


@pytest.fixture
def dana() -> Client:
    """Dana is a researcher with a staff account."""
    User.objects.create_user("dana", password="pw-dana-123", is_staff=True, is_superuser=True)
    client = Client()
    client.login(username="dana", password="pw-dana-123")
    return client


def test_it_links_every_tool_from_the_admin_index(dana: Client) -> None:
    page = dana.get("/admin/").content.decode()
    for url in TOOLS:
        assert f'href="{url}"' in page
        assert dana.get(url).status_code == 200, url


def test_it_links_the_tools_on_the_landing_page_for_staff_only(dana: Client) -> None:
    assert 'href="/quality/review/"' in dana.get("/").content.decode()
    anonymous = Client().get("/").content.decode()
    assert 'href="/quality/review/"' not in anonymous
    assert "Sign in to the administration" in anonymous
