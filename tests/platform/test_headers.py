"""Response headers: a strict Content-Security-Policy on every page, the admin included, and
the API schema for staff only."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cast import ALICE
from tests.crowd.factories import enter

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in directives}


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/start/?role=nobody", "/healthz"])
def test_every_response_carries_the_strict_policy(client: Client, path: str) -> None:
    policy = _policy(client.get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"][0] == "'self'"
    assert "ws://127.0.0.1:8000" in policy["connect-src"]
    assert not any("unsafe" in word for words in policy.values() for word in words)


def test_the_admin_index_passes_the_policy(ada_client: Client) -> None:
    response = ada_client.get("/admin/")
    assert response.status_code == 200
    assert _policy(response)["script-src"] == ["'self'"]
    html = response.content.decode()
    assert " style=" not in html and "<script>" not in html


@pytest.mark.parametrize("who", ["anonymous", "worker", "otto"])
def test_the_api_schema_is_refused_to_all_but_staff(
    who: str, alice_client: Client, otto_client: Client
) -> None:
    client = {"anonymous": Client(), "worker": alice_client, "otto": otto_client}[who]
    if who == "worker":
        enter(ALICE, client=alice_client)
    assert client.get("/api/schema/").status_code == 403


def test_staff_fetch_the_api_schema(rita_client: Client) -> None:
    response = rita_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "openapi" in response.json()
