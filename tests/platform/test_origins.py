"""Websockets are served only to pages of the site: the whole origin (scheme, host, port) counts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from chat.models import Utterance
from esc_platform.origins import (
    CLOSE_FORBIDDEN_ORIGIN,
    OriginError,
    normalise_origin,
    origins_from_hosts,
    websocket_urls,
)
from tests.chat.factories import make_pair
from tests.chat.sockets import adb
from tests.crowd.factories import session_cookie
from tests.platform.test_settings import manage, production_env


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("HTTPS://ESC.Example.org", "https://esc.example.org:443"),
        ("http://localhost/", "http://localhost:80"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_an_origin_is_normalised_with_its_port(text: str, expected: str) -> None:
    assert normalise_origin(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1:8000",
        "ftp://example.org",
        "http://",
        "https://a.org/path",
        "http://a.org:x",
        "http://user@a.org",
        "null",
        "",
    ],
)
def test_what_is_not_an_origin_is_refused(text: str) -> None:
    with pytest.raises(OriginError):
        normalise_origin(text)


def test_production_origins_come_from_plain_host_names() -> None:
    hosts = ["esc.example.org", ".example.org", "*", "[::1]"]
    assert origins_from_hosts(hosts) == ["https://esc.example.org:443", "https://[::1]:443"]
    assert websocket_urls(["https://esc.example.org:443", "http://127.0.0.1:8000"]) == [
        "wss://esc.example.org",
        "ws://127.0.0.1:8000",
    ]


def _headers(origin: str | None, host: str, cookie: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return headers


async def _open(
    path: str,
    *,
    origin: str | None,
    host: str = "127.0.0.1:8000",
    cookie: str | None = None,
    scheme: str = "ws",
) -> tuple[WebsocketCommunicator, Any]:
    """Connect; return the communicator and the first frame (a dict) or the close code (int)."""
    from esc_platform.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=_headers(origin, host, cookie))
    communicator.scope["scheme"] = scheme
    connected, code = await communicator.connect()
    if not connected:
        return communicator, code
    output = await communicator.receive_output(timeout=3)
    if output["type"] == "websocket.close":
        return communicator, output["code"]
    return communicator, receive_text(output)


def receive_text(output: dict[str, Any]) -> dict[str, Any]:
    return json.loads(output["text"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_page_on_another_port_cannot_read_or_write_the_victim_s_chat() -> None:
    pair = await adb(make_pair)()
    cookie = await adb(session_cookie)(pair.seeker)
    path = f"/ws/chat/{pair.conversation.pk}/"

    # The attack: a page served from http://127.0.0.1:9999, the victim's cookie riding along.
    attacker, outcome = await _open(path, origin="http://127.0.0.1:9999", cookie=cookie)
    assert outcome == CLOSE_FORBIDDEN_ORIGIN
    await attacker.disconnect()

    # The site's own page (same scheme, host and port as the socket) is served.
    own, hello = await _open(path, origin="http://127.0.0.1:8000", cookie=cookie)
    assert hello["type"] == "hello"
    await own.disconnect()
    assert await adb(Utterance.objects.filter(conversation=pair.conversation).count)() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        (None, "127.0.0.1:8000", "ws"),  # no Origin at all
        ("null", "127.0.0.1:8000", "ws"),  # a sandboxed frame or a file
        ("https://127.0.0.1:8000", "127.0.0.1:8000", "ws"),  # another scheme
        ("http://127.0.0.1:8001", "127.0.0.1:8001", "wss"),  # https page expected
        ("http://evil.example:8000", "evil.example:8000", "ws"),  # not an allowed host
        ("http://localhost:8000", "127.0.0.1:8000", "ws"),  # fine: a default site origin
    ],
)
async def test_only_the_site_s_origins_are_served_in_development(
    origin: str | None, host: str, scheme: str
) -> None:
    # /ws/nowhere/ has no route: an origin that passes reaches the router, which closes it
    # with a code of its own; a refused origin never gets that far (4403).
    communicator, outcome = await _open("/ws/nowhere/", origin=origin, host=host, scheme=scheme)
    await communicator.disconnect()
    served = origin == "http://localhost:8000"
    assert (outcome != CLOSE_FORBIDDEN_ORIGIN) is served, outcome


@pytest.mark.asyncio
@override_settings(
    SITE_ORIGINS=["https://esc.example.org:443"],
    SITE_ORIGIN_FROM_HOST=False,
    ALLOWED_HOSTS=["esc.example.org"],
)
@pytest.mark.parametrize(
    ("origin", "served"),
    [
        ("https://esc.example.org", True),
        ("https://esc.example.org:443", True),
        ("http://esc.example.org", False),  # the scheme counts
        ("https://esc.example.org:8443", False),  # the port counts
        ("https://other.example.org", False),
    ],
)
async def test_a_configured_site_accepts_exactly_its_origins(origin: str, served: bool) -> None:
    communicator, outcome = await _open(
        "/ws/nowhere/", origin=origin, host="esc.example.org", scheme="wss"
    )
    await communicator.disconnect()
    assert (outcome != CLOSE_FORBIDDEN_ORIGIN) is served, outcome


def _show(expression: str, **env: str) -> str:
    code = f"from django.conf import settings as s; print(repr(({expression})))"
    result = manage("shell", "-v", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_origin_defaults_follow_debug_and_the_allowed_hosts() -> None:
    development = _show("s.SITE_ORIGINS, s.SITE_ORIGIN_FROM_HOST")
    assert development == "(['http://127.0.0.1:8000', 'http://localhost:8000'], True)"
    production = _show("s.SITE_ORIGINS, s.SITE_ORIGIN_FROM_HOST", **production_env())
    assert production == "(['https://esc.example.org:443'], False)"
    explicit = _show(
        "s.SITE_ORIGINS, s.SITE_ORIGIN_FROM_HOST",
        DJANGO_SITE_ORIGINS="http://127.0.0.1:9000, https://esc.example.org",
    )
    assert explicit == "(['http://127.0.0.1:9000', 'https://esc.example.org:443'], False)"


def test_a_malformed_site_origin_stops_start_up_naming_it() -> None:
    result = manage("check", DJANGO_SITE_ORIGINS="esc.example.org")
    assert result.returncode != 0
    assert "ESC Platform configuration error: DJANGO_SITE_ORIGINS" in result.stderr
    assert "Traceback" not in result.stderr
