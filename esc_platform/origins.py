"""ASGI middleware: a websocket is served only to pages of this site (scheme, host and port).

A browser sends the `Origin` of the page that opens a socket, and the session cookie with it
whatever that page is. So without this check any page the worker has open, even one on
another port of the same machine, could read and write the worker's chat. Channels'
`AllowedHostsOriginValidator` compares host names only; this compares the whole origin.

A socket is allowed when its `Origin` is one of `settings.SITE_ORIGINS` (each normalised to
`scheme://host:port`, the default port written out) or, when `settings.SITE_ORIGIN_FROM_HOST`
is on (the development default), when it is the socket's own origin: the scheme the socket
came in on (ws -> http, wss -> https) with its `Host` header, that host being one of
`ALLOWED_HOSTS`. Servers on random ports (tests, benches, `make run` on another port) then
serve their own pages and nobody else's: a page from http://127.0.0.1:9999 is refused by a
server on 127.0.0.1:8000. A browser cannot forge `Host` or `Origin`, and a client that can has
no victim's cookie to send.

Any other socket (a wrong origin, none at all, a malformed one) is accepted and closed at once
with 4403, so the chat page shows "reload the page" instead of retrying forever.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN_ORIGIN = 4403
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PAGE_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


class OriginError(ValueError):
    """A text that is not an origin of the form scheme://host[:port]."""


def normalise_origin(text: str) -> str:
    """`scheme://host:port` in lower case with the port written out; OriginError if not one."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise OriginError(f"{text!r} is not an origin (scheme://host[:port])") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise OriginError(f"{text!r}: an origin starts with http:// or https://")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise OriginError(f"{text!r} names no host (or carries a user name)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise OriginError(f"{text!r}: an origin has no path, query or fragment")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def origins_from_hosts(hosts: Iterable[str]) -> list[str]:
    """The HTTPS origins of plain host names (production default); wildcards are skipped."""
    found = []
    for host in hosts:
        if not host or host.startswith(".") or "*" in host:
            continue
        try:
            found.append(normalise_origin(f"https://{host}"))
        except OriginError:
            continue
    return found


def websocket_urls(origins: Iterable[str]) -> list[str]:
    """The ws:// and wss:// sources of the site's origins (for connect-src)."""
    urls = []
    for origin in origins:
        scheme, rest = origin.split("://", 1)
        host, port = rest.rsplit(":", 1)
        default = int(port) == _DEFAULT_PORTS[scheme]
        urls.append(
            f"{'wss' if scheme == 'https' else 'ws'}://{host}{'' if default else ':' + port}"
        )
    return urls


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin1")
    return None


def own_origin(scope: dict[str, Any]) -> str | None:
    """The origin this socket was opened on, from its scheme and Host; None if not ours."""
    from django.conf import settings
    from django.http.request import split_domain_port, validate_host

    host = _header(scope, b"host")
    scheme = _PAGE_SCHEME.get(str(scope.get("scheme", "ws")))
    if not host or scheme is None:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    try:
        return normalise_origin(f"{scheme}://{host}")
    except OriginError:
        return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    from django.conf import settings

    raw = _header(scope, b"origin")
    if raw is None:
        return False
    try:
        origin = normalise_origin(raw)
    except OriginError:
        return False
    if origin in settings.SITE_ORIGINS:
        return True
    return bool(settings.SITE_ORIGIN_FROM_HOST) and origin == own_origin(scope)


class OriginCheck:
    """Serve a websocket only when its Origin is the site's; refuse others with 4403."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket" or origin_allowed(scope):
            await self.app(scope, receive, send)
            return
        # The origin is a web page's address, not a person's: safe to log.
        logger.warning("websocket from origin %r refused", (_header(scope, b"origin") or "")[:200])
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN_ORIGIN})
