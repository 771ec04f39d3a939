"""Rate limits on the pages a flood would hit: entry links per client address, worker posts per
session (django-ratelimit's counters, in the default cache).

`limit_rate(group, "SETTING_NAME")` wraps a view: the request is counted under `group` and
its key, and past the rate in the setting it gets a 429 — an HTML page, or JSON for the API
— before the view runs, so a refused request writes nothing. The decorator is ours rather than
django-ratelimit's own for two reasons: the answer is a 429 with Retry-After (not a 403), and a
cache that cannot be reached (Redis down) lets requests through with a warning instead of
turning every entry link into an error.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django_ratelimit import ALL
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., HttpResponseBase])
KeyFunction = Callable[[str, HttpRequest], str]


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind our proxy the address the proxy saw.

    With DJANGO_BEHIND_PROXY the proxy appends the address it saw to X-Forwarded-For, so the
    last entry is the one to trust; anything before it was written by the client.
    """
    address = str(request.META.get("REMOTE_ADDR") or "")
    if settings.BEHIND_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
        last = forwarded.split(",")[-1].strip()
        if last:
            address = last
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "unknown"  # all such clients share one counter rather than escaping the limit


def session_or_ip(group: str, request: HttpRequest) -> str:
    """A worker's own session (each worker has one), or the client address without one."""
    key = request.session.session_key if hasattr(request, "session") else None
    return f"session:{key}" if key else f"ip:{client_ip(request)}"


def by_ip(group: str, request: HttpRequest) -> str:
    """The client address; for IPv6 its /64 network, which one client usually owns whole."""
    address = client_ip(request)
    if ":" in address:
        address = str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return f"ip:{address}"


def _refusal(request: HttpRequest, retry_after: int, as_json: bool) -> HttpResponseBase:
    retry_after = max(retry_after, 1)
    response: HttpResponseBase
    if as_json:
        detail = f"Too many requests; try again in {retry_after} seconds."
        response = JsonResponse({"detail": detail}, status=429)
    else:
        context = {"retry_after": retry_after}
        response = render(request, "rate_limited.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _usage(request: HttpRequest, group: str, key: KeyFunction, rate: str, method: Any) -> Any:
    try:
        return get_usage(request, group=group, key=key, rate=rate, method=method, increment=True)
    except (RedisError, OSError):
        logger.warning("rate limit %s not checked: the cache is unreachable", group, exc_info=True)
        return None


def limit_rate(
    group: str,
    rate_setting: str,
    *,
    key: KeyFunction = by_ip,
    method: Any = ALL,
    as_json: bool = False,
) -> Callable[[View], View]:
    """Refuse a view's requests past the rate in `settings.<rate_setting>` with a 429."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            rate = getattr(settings, rate_setting)
            usage = _usage(request, group, key, rate, method)
            if usage is not None and usage["should_limit"]:
                return _refusal(request, int(usage["time_left"]), as_json)
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorate


# A worker's form posts (surveys) and tutorial answers, per worker session.
limit_survey_posts = limit_rate(
    "survey-post", "WORKER_POST_RATE_PER_SESSION", key=session_or_ip, method="POST"
)
limit_tutorial_answers = method_decorator(
    limit_rate(
        "tutorial-answer",
        "WORKER_POST_RATE_PER_SESSION",
        key=session_or_ip,
        method="POST",
        as_json=True,
    )
)
