"""What staff and workers see in Chromium: tables that fit their pages at desktop and phone
width, the admin under the product's name with each run's entry links, option lists edited
as lines, and the demo banner on a demo worker's pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from crowd.models import CollectionRun
from quality.judging import judge_pending
from quality.releases import write_release
from tests.browser_support import asgi_server, browser_type_launch_args, save_screenshot  # noqa: F401
from tests.cast import ADA, ALICE, CAROL, DAVE, RITA, account
from tests.chat.factories import make_pair, talk
from tests.chat.sockets import login_cookie
from tests.quality.factories import make_conversation, quality_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

# Every table of the page: the page itself never scrolls sideways, and a table either fits
# the window or sits in a box of its own that scrolls (.table-scroll).
MEASURE = """() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide in ${width}px`);
  }
  const scrolling = [];
  for (const table of document.querySelectorAll("main table")) {
    const name = table.dataset.testid || table.className || "table";
    const box = table.closest(".table-scroll");
    const edge = (box || table).getBoundingClientRect();
    if (edge.left < -1 || edge.right > width + 1) {
      problems.push(`${name} reaches ${Math.round(edge.left)}..${Math.round(edge.right)}px`);
    }
    if (box && box.scrollWidth > box.clientWidth + 1) scrolling.push(name);
  }
  return {problems, scrolling};
}"""


def _context(browser: Browser, base: str, width: int, height: int, user: Any) -> BrowserContext:
    context = browser.new_context(viewport={"width": width, "height": height})
    session = login_cookie(user).split("=", 1)[1]
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    return context


@pytest.fixture
def staff_data(tmp_path: Path) -> Iterator[CollectionRun]:
    """A release (its SHA-256 is the widest cell), a review queue with reasons, a run with
    workers for its dashboard and the funnel, and a chat in progress for the live list."""
    call_command("load_tutorial", verbosity=0)
    with override_settings(ESCONV_EXPORT_DIR=tmp_path / "releases"):
        make_conversation()
        make_conversation(relevance=3, empathy=2, feedback=(1, 2))
        judge_pending()
        assert write_release() is not None
    pair = make_pair(quality_run(), seeker=CAROL, supporter=DAVE)
    talk(pair, 3)
    yield pair.run


@pytest.mark.parametrize("size", sorted(WIDTHS))
def test_staff_tables_fit_their_pages(
    asgi_server: str,  # noqa: F811
    browser: Browser,
    staff_data: CollectionRun,
    size: str,
) -> None:
    width, height = WIDTHS[size]
    context = _context(browser, asgi_server, width, height, account(RITA))
    page = context.new_page()
    pages = {
        "releases": reverse("quality:releases"),
        "review-queue": reverse("quality:queue"),
        "dashboard": reverse("crowd:run_dashboard", args=[staff_data.name]),
        "funnel": reverse("tutorial:funnel"),
        "live": reverse("chat:live"),
    }
    found: dict[str, Any] = {}
    for name, path in pages.items():
        page.goto(asgi_server + path)
        expect(page.locator("main table").first).to_be_visible()
        found[name] = page.evaluate(MEASURE)
        save_screenshot(page, f"staff-{name}-{size}")
    context.close()
    problems = {name: result["problems"] for name, result in found.items() if result["problems"]}
    assert problems == {}
    scrolling = {name for name, result in found.items() if result["scrolling"]}
    if size == "desktop":
        assert scrolling == set()  # at desktop width every table fits as it is
    else:
        # The wide ones scroll inside their own box; the page itself does not.
        assert {"releases", "review-queue", "live"} <= scrolling


def test_the_admin_is_the_esc_platform_and_leads_to_each_run_s_entry_links(
    asgi_server: str,  # noqa: F811
    browser: Browser,
) -> None:
    demo = CollectionRun.get_default()
    context = _context(browser, asgi_server, 1280, 900, account(ADA))
    page = context.new_page()
    page.goto(asgi_server + "/admin/")
    expect(page).to_have_title("ESC Platform | ESC Platform")
    expect(page.locator("#site-name")).to_have_text("ESC Platform")
    runs = page.get_by_test_id("admin-runs")
    expect(runs).to_contain_text("Demo run")
    expect(runs).to_contain_text("demo")
    save_screenshot(page, "admin-index")
    runs.get_by_role("link", name="Entry links").first.click()
    page.wait_for_url(f"**/admin/crowd/collectionrun/{demo.pk}/change/#entry-links")
    links = page.get_by_test_id("entry-link")
    expect(links.first).to_be_in_viewport()
    expect(links.first).to_have_value(
        f"{asgi_server}/start/?role=supporter&run=demo&PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}"
        "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )

    # The option lists are typed one per line; a duplicate is refused and nothing is lost.
    options = page.locator("#id_problem_options")
    expect(options).to_have_value("\n".join(demo.problem_options))
    expect(page.locator("#id_max_wait_seconds_helptext")).to_contain_text("Seconds a worker waits")
    options.fill("exam stress\nmoving house\nExam  stress")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("'Exam stress' is listed twice")
    expect(options).to_have_value("exam stress\nmoving house\nExam  stress")
    options.fill("exam stress\nmoving house\n")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    context.close()
    demo.refresh_from_db()
    assert demo.problem_options == ["exam stress", "moving house"]


def test_a_demo_worker_sees_the_demo_banner_on_every_page(
    asgi_server: str,  # noqa: F811
    page: Page,
) -> None:
    demo = CollectionRun.get_default()
    assert demo.is_demo
    # A link naming no run: the demo run.
    page.goto(f"{asgi_server}/start/?role=seeker&PROLIFIC_PID={ALICE.pid}&STUDY_ID=s&SESSION_ID=x")
    banner = page.get_by_test_id("demo-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("demo run for trying the platform")
    page.get_by_label("I have read this and agree to take part.").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/surveys/pre-chat/")
    expect(page.get_by_test_id("demo-banner")).to_be_visible()
    save_screenshot(page, "demo-banner-pre-chat")
