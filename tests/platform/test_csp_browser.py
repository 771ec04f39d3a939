"""Every page works under the Content-Security-Policy in real Chromium: no violation is reported.

Chromium reports a blocked inline script, inline style or connection both as a
`securitypolicyviolation` event on the page and as a console error; the test collects both
while it walks the workers' pages (entry, consent, training with an answer through the API,
pre-chat survey, waiting room, the chat room with its websocket) and the staff's (admin,
dashboards, review, live view).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser_support import asgi_server, browser_type_launch_args  # noqa: F401
from tests.cast import ADA, ALICE, BOB, CAROL, ERIN, SAM, account
from tests.chat.factories import make_pair
from tests.chat.sockets import login_cookie
from tests.crowd.factories import make_run, session_key
from tests.surveys.factories import waiting_seeker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Walk:
    """A browser context whose pages report every CSP violation and console error."""

    def __init__(self, browser: Browser, base_url: str, session: str | None = None) -> None:
        self.base_url = base_url
        self.context: BrowserContext = browser.new_context()
        self.context.add_init_script(LISTEN)
        if session:
            self.context.add_cookies([{"name": "sessionid", "value": session, "url": base_url}])
        self.problems: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        # The pages that answer 400 (a bad link) or 403 (no session) on purpose, and the
        # favicon Chromium asks for (the site has none).
        expected = ("status of 400", "status of 403")
        where = message.location.get("url") or self.page.url
        if where.endswith("/favicon.ico"):
            return
        if message.type == "error" and not any(text in message.text for text in expected):
            self.problems.append(f"console: {message.text} ({where})")

    def visit(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        self.check()
        return self.page

    def check(self) -> None:
        found = self.page.evaluate("window.__cspViolations || []")
        self.problems += [f"violation: {v} on {self.page.url}" for v in found]


def _walk_worker_pages(browser: Browser, base_url: str) -> list[str]:
    call_command("load_tutorial", verbosity=0)
    run = make_run(name="csp-run")
    # A supporter in training: entry link, consent page, a tutorial part answered via the API.
    sam = Walk(browser, base_url)
    sam.visit(f"/start/?role=supporter&PROLIFIC_PID={SAM.pid}&run={run.name}")
    sam.page.get_by_label("I have read this and agree to take part.").check()
    sam.page.get_by_role("button", name="Continue").click()
    sam.page.wait_for_load_state("load")
    sam.visit("/tutorial/1/")
    sam.page.locator('input[name="option"]').first.check()
    sam.page.get_by_role("button", name="Save answer").click()
    expect(sam.page.get_by_test_id("answer-result")).not_to_be_empty()
    sam.check()
    # A seeker at the pre-chat survey, one in the waiting room, a pair in the chat room.
    carol = Walk(browser, base_url)
    carol.visit(f"/start/?role=seeker&PROLIFIC_PID={CAROL.pid}&run={run.name}")
    carol.page.get_by_label("I have read this and agree to take part.").check()
    carol.page.get_by_role("button", name="Continue").click()
    carol.page.wait_for_url("**/surveys/pre-chat/")
    carol.check()
    erin = Walk(browser, base_url, session_key(waiting_seeker(ERIN, run)))
    erin.visit("/chat/waiting/")
    pair = make_pair(make_run(name="csp-chat"), seeker=ALICE, supporter=BOB)
    alice = Walk(browser, base_url, session_key(pair.seeker))
    alice.visit("/chat/room/")
    expect(alice.page.locator("#conn")).to_have_text("live", timeout=10000)  # the websocket
    alice.check()
    # Pages anyone may see.
    anonymous = Walk(browser, base_url)
    for path in ("/", "/start/?role=nobody", "/done/", "/admin/login/"):
        anonymous.visit(path)
    walks = (sam, carol, erin, alice, anonymous)
    return [problem for walk in walks for problem in walk.problems]


def _walk_staff_pages(browser: Browser, base_url: str) -> list[str]:
    pair = make_pair(make_run(name="csp-staff"), seeker=ALICE, supporter=BOB)
    conversation = pair.conversation
    ada = Walk(browser, base_url, login_cookie(account(ADA)).split("=", 1)[1])
    for path in (
        "/admin/",
        f"/admin/chat/conversation/{conversation.pk}/change/",
        "/admin/chat/utterance/",
        f"/admin/crowd/collectionrun/{pair.run.pk}/change/",
        "/admin/crowd/collectionrun/add/",
        "/admin/auth/user/add/",
        reverse("crowd:run_dashboard", args=[pair.run.name]),
        reverse("tutorial:funnel"),
        reverse("quality:queue"),
        reverse("quality:detail", args=[conversation.pk]),
        reverse("chat:live"),
        reverse("quality:releases"),
    ):
        ada.visit(path)
    # The admin's own scripts run: the user-add form's password toggles, the collapsible nav.
    ada.visit("/admin/crowd/collectionrun/")
    return ada.problems


def test_the_workers_pages_report_no_policy_violation(
    asgi_server: str,  # noqa: F811
    browser: Browser,
) -> None:
    assert _walk_worker_pages(browser, asgi_server) == []


def test_the_staff_pages_and_the_admin_report_no_policy_violation(
    asgi_server: str,  # noqa: F811
    browser: Browser,
) -> None:
    assert _walk_staff_pages(browser, asgi_server) == []


def test_an_inline_script_would_be_reported(asgi_server: str, browser: Browser) -> None:  # noqa: F811
    """The listener works: a script injected into a page of ours is blocked and reported."""
    walk = Walk(browser, asgi_server)
    page = walk.visit("/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    walk.check()
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in problem for problem in walk.problems), walk.problems
