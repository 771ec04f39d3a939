"""Typed readers for environment variables that fail loudly on a bad value.

Every reader names the variable in its error, so a typo in a deployment stops
start-up with a message a person can act on instead of a stack trace later.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse


class ImproperEnvironment(Exception):
    """An environment variable is set to a value the platform cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperEnvironment(f"{name}={raw!r} is not a boolean; use true/false, 1/0, yes/no")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperEnvironment(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperEnvironment(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, schemes: set[str]) -> str | None:
    """Return the URL in `name`, or None when unset; refuse a malformed one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperEnvironment(
            f"{name}={raw!r} is not a URL this platform understands "
            f"(scheme must be one of {allowed})"
        )
    if parsed.scheme not in {"sqlite"} and not parsed.hostname and not parsed.path:
        raise ImproperEnvironment(f"{name}={raw!r} names no host")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ImproperEnvironment(f"{name}={raw!r} has an invalid port") from None
    return raw


_RATE = re.compile(r"^[1-9]\d*/\d*[smhd]$")


def env_rate(name: str, default: str) -> str:
    """A request rate such as "60/m" (count per s, m, h or d; "100/5m" for 5 minutes)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not _RATE.match(value):
        raise ImproperEnvironment(
            f"{name}={raw!r} is not a rate; use <count>/<period> such as 60/m or 1000/h"
        )
    return value
