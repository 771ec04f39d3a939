"""Is a service reachable? Used to decide whether tests needing it run, skip or fail (CI)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(url: str | None, default_port: int) -> bool:
    if not url:
        return False
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    try:
        with socket.create_connection((host, parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require(what: str, available: bool, how: str) -> None:
    """Skip a test whose service is missing, except under CI where that is a failure."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if under_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def redis_url() -> str | None:
    return os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")


def redis_available() -> bool:
    return reachable(redis_url(), 6379)


def require_redis() -> str:
    url = redis_url()
    require("Redis", redis_available(), "set TEST_REDIS_URL (make test does when Redis answers)")
    assert url is not None
    return url
