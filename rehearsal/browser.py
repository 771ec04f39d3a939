"""One simulated worker's browser: its own cookies (session, device, CSRF), over HTTP.

Each simulated worker gets a browser of its own, as the one-browser-per-task rule wants.
It follows redirects, sends the CSRF token the page carried with every POST, and when the
server answers 429 it waits what `Retry-After` says, as the pages ask a person to, and tries
again: the rehearsal meets the same rate limits as real workers and shows whether a run's
limits let its expected arrivals in.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from rehearsal.forms import Form, fill, first_post_form

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CHAT_CONFIG = re.compile(r'<script id="chat-config" type="application/json">(.*?)</script>', re.S)
MAX_RETRY_WAIT_SECONDS = 60.0


class StepFailed(Exception):
    """A step of the journey did not go as a worker's would (the message says how)."""


@dataclass
class Page:
    url: str
    status: int
    text: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


class Browser:
    def __init__(self, base_url: str, *, timeout: float = 30.0, rate_limit_wait: float = 300.0):
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.ws_base = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc
        self.csrf = ""
        self.rate_limited_seconds = 0.0
        self._rate_limit_wait = rate_limit_wait
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": "esc-platform-rehearsal"},
        )

    async def close(self) -> None:
        await self.http.aclose()

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.http.cookies.jar)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        while True:
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise StepFailed(f"{method} {path}: {type(exc).__name__}: {exc}") from None
            if response.status_code != 429:
                return response
            wait = min(float(response.headers.get("Retry-After", "1") or 1), MAX_RETRY_WAIT_SECONDS)
            if self.rate_limited_seconds + wait > self._rate_limit_wait:
                raise StepFailed(f"{method} {path}: still rate limited after {wait:.0f} s more")
            self.rate_limited_seconds += wait
            await asyncio.sleep(wait)

    def _page(self, response: httpx.Response) -> Page:
        text = response.text
        if (match := _CSRF_INPUT.search(text)) is not None:
            self.csrf = match.group(1)
        return Page(str(response.url), response.status_code, text)

    async def get(self, path: str, params: dict[str, str] | None = None) -> Page:
        return self._page(await self._send("GET", path, params=params))

    async def post_form(self, path: str, data: dict[str, str]) -> Page:
        body = {"csrfmiddlewaretoken": self.csrf, **data}
        return self._page(await self._send("POST", path, data=body, headers=self._referer(path)))

    async def post_json(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"X-CSRFToken": self.csrf, "Accept": "application/json", **self._referer(path)}
        return await self._send("POST", path, json=body or {}, headers=headers)

    async def get_json(self, path: str) -> httpx.Response:
        return await self._send("GET", path, headers={"Accept": "application/json"})

    def _referer(self, path: str) -> dict[str, str]:
        # Django checks the Referer of HTTPS posts; a browser sends the page's own address.
        return {"Referer": self.base_url + path, "Origin": self.origin}

    async def submit_first_form(self, page: Page, rng: Any) -> Page:
        """Fill in the page's form as a person would and send it to its action."""
        form = first_post_form(page.text)
        if form is None:
            raise StepFailed(f"{page.path} has no form to fill in")
        return await self.post_form(_action(form, page), fill(form, rng))

    @staticmethod
    def chat_config(page: Page) -> dict[str, Any]:
        import json

        match = _CHAT_CONFIG.search(page.text)
        if match is None:
            raise StepFailed(f"{page.path} is not a chat room (no chat configuration)")
        value = json.loads(match.group(1))
        if not isinstance(value, dict):
            raise StepFailed(f"{page.path}: the chat configuration is not an object")
        return value


def _action(form: Form, page: Page) -> str:
    return form.action or page.path
