"""In Chromium: staff see a rating and a flag appear on the live list and on the watched
conversation while the chat goes on, without reloading either page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_support import off_the_event_loop, save_screenshot
from tests.cast import RITA, account
from tests.chat.factories import make_pair, rate, say
from tests.chat.sockets import login_cookie
from tests.tutorial.factories import load_content

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set on the page once; a reload would lose it.
MARK = "window.__notReloaded = true"
STILL_MARKED = "window.__notReloaded === true"


def _staff_page(browser: Browser, base: str, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    session = login_cookie(account(RITA)).split("=", 1)[1]
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    return context.new_page()


def test_ratings_and_flags_appear_as_they_happen(asgi_server: str, browser: Browser) -> None:
    example = max(load_content(), key=lambda s: len(s.example_supporter.split()))
    pair = make_pair(feedback_every=1)
    listing = _staff_page(browser, asgi_server, 1280)
    listing.goto(asgi_server + "/chat/live/")
    row = listing.locator(f'tr[data-conversation="{pair.conversation.pk}"]')
    expect(row.locator("[data-signal=ratings]")).to_have_text("none yet")
    expect(row.locator("[data-signal=flags]")).to_have_text("none")
    listing.evaluate(MARK)

    watching = _staff_page(browser, asgi_server, 390)
    watching.goto(f"{asgi_server}/chat/live/{pair.conversation.pk}/")
    expect(watching.locator("#conn")).to_have_text("live")
    expect(watching.get_by_test_id("watch-ratings")).to_have_text("none yet")
    watching.evaluate(MARK)

    off_the_event_loop(
        lambda: say(pair, pair.seeker, "I failed an exam and I feel awful about it.")
    )
    # The supporter copies the training's example: the chat flags it.
    off_the_event_loop(lambda: say(pair, pair.supporter, example.example_supporter))
    off_the_event_loop(lambda: rate(pair, pair.seeker, 4))

    # Within a poll or two (every 5 s), on both pages, and neither page was reloaded.
    expect(watching.get_by_test_id("watch-ratings")).to_have_text("4 (mean 4.0)", timeout=15_000)
    expect(watching.get_by_test_id("watch-flags")).to_contain_text("Copies a tutorial example")
    expect(watching.get_by_test_id("watch-flags")).to_contain_text("(message 2)")
    expect(row.locator("[data-signal=ratings]")).to_have_text("4 (mean 4.0)", timeout=15_000)
    expect(row.locator("[data-signal=flags]")).to_contain_text("Copies a tutorial example")
    expect(listing.get_by_test_id("live-status")).to_contain_text("Updated at")
    save_screenshot(watching, "live-watch-signals-phone")
    save_screenshot(listing, "live-list-signals")
    assert listing.evaluate(STILL_MARKED) and watching.evaluate(STILL_MARKED)

    # A second rating joins the first; the mean follows.
    off_the_event_loop(lambda: say(pair, pair.seeker, "Thank you, that helps a little."))
    off_the_event_loop(
        lambda: say(pair, pair.supporter, "I am glad. What would help you most now?")
    )
    off_the_event_loop(lambda: rate(pair, pair.seeker, 2))
    expect(row.locator("[data-signal=ratings]")).to_have_text("4 · 2 (mean 3.0)", timeout=15_000)
    expect(watching.get_by_test_id("watch-ratings")).to_have_text("4 · 2 (mean 3.0)")
    assert listing.evaluate(STILL_MARKED) and watching.evaluate(STILL_MARKED)
    listing.context.close()
    watching.context.close()
