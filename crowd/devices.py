"""Which browser holds a task, and which network it came from.

A crowd id is not a secret: anybody can type someone else's into an entry link. So the first
browser that opens a worker's link holds the task: it gets a long-lived device cookie (a random
secret, signed, HttpOnly, apart from the session), the worker row keeps a hash of that secret
(`Worker.device_key`), and the session carries the same hash. Another browser presenting the
same crowd id is refused at the entry link, and a session whose hash is not the worker's (a
browser the task has moved away from) is bound to nobody. See docs/workers.md, "One browser,
one person".

The network address is kept only as a keyed hash (`Worker.network_key`): enough to notice two
partners entering from one address, useless to anyone reading the database for the address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

DEVICE_COOKIE = "esc_device"
DEVICE_SESSION_KEY = "device_key"
_SALT = "esc-platform.device"
# A task lasts hours; the cookie outlives any session so that a worker who comes back a week
# later for a follow-up is still recognised.
DEVICE_COOKIE_AGE = 60 * 60 * 24 * 365


def _signer() -> signing.Signer:
    return signing.get_cookie_signer(salt=DEVICE_COOKIE + _SALT)


def device_key(secret: str) -> str:
    """What the database keeps of a device secret: its SHA-256, never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def signed_device_cookie(secret: str) -> str:
    return _signer().sign(secret)


def device_secret(request: HttpRequest) -> str | None:
    """The device secret of this browser's cookie, or None (no cookie, or a forged one)."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        return _signer().unsign(raw)
    except signing.BadSignature:
        return None


def new_device_secret() -> str:
    return secrets.token_urlsafe(32)


def remember_device(response: HttpResponse, secret: str) -> None:
    """Give the browser its device cookie (again: each entry renews its lifetime)."""
    response.set_cookie(
        DEVICE_COOKIE,
        signed_device_cookie(secret),
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def network_key(address: str) -> str:
    """A keyed hash of a network address: equal addresses, equal keys.

    "" for none, and for an address of this machine (a local test, or a proxy that was not
    declared with DJANGO_BEHIND_PROXY): it says nothing about who is behind it.
    """
    try:
        if not address or ipaddress.ip_address(address).is_loopback:
            return ""
    except ValueError:
        return ""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"network:{address}".encode(), hashlib.sha256).hexdigest()
