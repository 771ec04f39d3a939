"""The chat room on a phone (390×844), both roles, in real Chromium.

One conversation with a history longer than the screen. What is checked:

- the page never scrolls: the latest message (inside the log's visible part) and the composer
  are both inside the viewport, with the strategies open, and with a rating prompt open;
- the supporter's strategies sit behind one "Strategy: …" toggle; Enter or Send without a
  strategy sends nothing, says why and moves focus to the strategies;
- the seeker's situation stays on the supporter's screen, closes, and stays closed (or open)
  across reloads;
- the rating prompt takes focus when it appears, except from a seeker in mid-sentence, who is
  told about it instead and keeps typing;
- the messages are list items inside the role=log container; the "live" link status has a
  contrast of at least 4.5:1;
- End conversation asks first; "Keep chatting" keeps the chat, "End now" ends it for both;
- the waiting room's ticking clock is in no live region; its status line speaks once a minute
  and when a partner is found.

The screenshots (chat-supporter-phone, chat-seeker-phone) go to ESC_SHOTS_DIR, /tmp/shots by
default; docs/images/ holds copies of them (docs/protocol.md#the-chat-page).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from chat.models import Conversation, Utterance
from crowd.models import Worker
from tests.cast import ALICE, BOB
from tests.chat.factories import Pair, make_pair, rate, say
from tests.chat.test_browser_chat import choose_strategy, end_conversation
from tests.crowd.factories import make_run, session_key
from tests.surveys.factories import waiting_seeker
from tests.tutorial.factories import trained_supporter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("ESC_SHOTS_DIR", "/tmp/shots"))
PHONE = {"width": 390, "height": 844}
SITUATION = (
    "My manager told me last week that my team will be cut next month. I have not told my "
    "partner yet because I do not want to worry them, and I keep lying awake going over the "
    "rent, the loan for the car and what I would even say at an interview after ten years."
)
SEEKER_LINES = [
    "Hi. I do not really know where to start.",
    "Work, mostly. My team is being cut next month and I found out last week.",
    "Not great. I keep going over the numbers at night instead of sleeping.",
    "Nobody yet. I have not even told my partner, I do not want to scare them.",
    "I guess I am scared they will be disappointed in me, even if it is not my fault.",
    "Ten years in the same place. I would not know how to sell myself to anyone new.",
]
SUPPORTER_LINES = [
    "Hello, I am glad you wrote. Take your time, what is on your mind?",
    "That is a lot to take in at once. How have you been coping since you heard?",
    "Lying awake with all of that sounds exhausting. Who have you been able to talk to?",
    "It makes sense that you want to protect them from worry.",
    "It sounds like you feel you are letting them down, even though the cut is not your doing.",
]
STRATEGIES = [
    "Question",
    "Question",
    "Question",
    "Affirmation and Reassurance",
    "Reflection of feelings",
]
# Where things are, measured in the page: the viewport, the page's own scrolling, the log's
# visible box, its last message, and each element asked for (null when it is not rendered).
LAYOUT = """(selectors) => {
  const box = (el) => {
    if (!el || !el.getClientRects().length) return null;
    const r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
  };
  const items = document.querySelectorAll("#messages > li.msg");
  return {
    width: window.innerWidth,
    height: window.innerHeight,
    scrollY: window.scrollY,
    pageWidth: document.documentElement.scrollWidth,
    pageHeight: document.documentElement.scrollHeight,
    log: box(document.getElementById("log")),
    last: box(items[items.length - 1]),
    boxes: Object.fromEntries(selectors.map((s) => [s, box(document.querySelector(s))])),
  };
}"""
# The WCAG contrast ratio of an element's text against the first opaque background behind it.
CONTRAST = """(el) => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const channel = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  let node = el;
  let background = null;
  while (node && node.nodeType === 1) {
    const parts = rgb(getComputedStyle(node).backgroundColor);
    if (parts.length === 3 || parts[3] === 1) { background = parts.slice(0, 3); break; }
    node = node.parentElement;
  }
  const fg = luminance(rgb(getComputedStyle(el).color).slice(0, 3));
  const bg = luminance(background || [255, 255, 255]);
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


# Every text the waiting room's status line is given, kept in sessionStorage so that it is still
# there after the page has moved on to the chat room.
RECORD_STATUS = """
new MutationObserver((records) => {
  const el = document.getElementById("waiting-status");
  if (!el || !el.textContent) return;
  // Each setting of the line counts, even of the same words; other changes (the clock) do not.
  for (const record of records) {
    if (!el.contains(record.target)) continue;
    const said = JSON.parse(sessionStorage.getItem("said") || "[]");
    said.push(el.textContent);
    sessionStorage.setItem("said", JSON.stringify(said));
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
LIVE_ANCESTORS = (
    "xpath=ancestor-or-self::*[@aria-live or @role='status' or @role='log' or @role='alert']"
)


def _phone_context(browser: Browser, base_url: str, worker: Any) -> Any:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.add_cookies([{"name": "sessionid", "value": session_key(worker), "url": base_url}])
    return context


def _phone(browser: Browser, base_url: str, worker: Any) -> Page:
    page = _phone_context(browser, base_url, worker).new_page()
    page.goto(base_url + "/chat/room/")
    expect(page.locator("#conn")).to_have_text("live", timeout=15_000)
    return page


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # One image pixel per CSS pixel (390×844) keeps the copies in docs/images/ small.
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, scale="css")


def _inside(inner: dict[str, float], outer: dict[str, float], what: str) -> None:
    assert inner["top"] >= outer["top"] - 0.5 and inner["bottom"] <= outer["bottom"] + 0.5, (
        f"{what} is not inside vertically: {inner} in {outer}"
    )
    assert inner["left"] >= outer["left"] - 0.5 and inner["right"] <= outer["right"] + 0.5, (
        f"{what} is not inside horizontally: {inner} in {outer}"
    )


def assert_fits(page: Page, *also: str) -> None:
    """No page scrolling at all; the last message, the composer and `also` are on screen."""
    page.wait_for_timeout(100)  # let a resize settle the log's scroll position
    layout = page.evaluate(LAYOUT, ["#composer", "#text", "#send", *also])
    screen = {"top": 0, "left": 0, "bottom": layout["height"], "right": layout["width"]}
    assert (layout["width"], layout["height"]) == (PHONE["width"], PHONE["height"])
    assert layout["scrollY"] == 0
    assert layout["pageHeight"] <= layout["height"], "the page itself scrolls vertically"
    assert layout["pageWidth"] <= layout["width"], "the page itself scrolls sideways"
    _inside(layout["log"], screen, "the message log")
    assert layout["log"]["bottom"] - layout["log"]["top"] >= 100, "the log is squeezed away"
    _inside(layout["last"], layout["log"], "the last message")
    for selector, box in layout["boxes"].items():
        assert box is not None, f"{selector} is not shown"
        _inside(box, screen, selector)


def _pair() -> Pair:
    call_command("load_tutorial", verbosity=0)
    pair = make_pair(
        feedback_every=2,
        min_turns_to_end=1,
        min_seconds_to_end=0,
        pre_chat={"situation": SITUATION},
    )
    # Six seeker lines and five supporter lines; the prompts after supporter lines 2 and 4 are
    # answered before the seeker's next line, as she would.
    for i, line in enumerate(SEEKER_LINES):
        if i in (2, 4):
            rate(pair, pair.seeker, i)
        say(pair, pair.seeker, line)
        if i < len(SUPPORTER_LINES):
            say(pair, pair.supporter, SUPPORTER_LINES[i], strategy=STRATEGIES[i])
    return pair


def _stored(pair: Pair) -> int:
    return Utterance.objects.filter(conversation=pair.conversation).count()


def test_the_room_fits_a_phone_for_both_roles(asgi_server: str, browser: Browser) -> None:
    pair = _pair()
    assert _stored(pair) == 11
    seeker = _phone(browser, asgi_server, pair.seeker)
    supporter = _phone(browser, asgi_server, pair.supporter)
    for page in (seeker, supporter):
        expect(page.locator("#messages > li.msg")).to_have_count(11)
        assert_fits(page)

    # List semantics kept: the log is a container, the list inside it has no role of its own.
    assert supporter.locator("#log[role=log] > ol#messages > li.msg").count() == 11
    assert supporter.locator("#messages").get_attribute("role") is None
    # "live" is readable: at least 4.5:1 against the card.
    assert supporter.locator("#conn").evaluate(CONTRAST) >= 4.5

    # The situation is on the supporter's screen from the start.
    expect(supporter.get_by_test_id("situation")).to_be_visible()
    expect(supporter.get_by_test_id("situation")).to_contain_text("lying awake")

    # One compact control instead of eight chips; the chips open from it.
    toggle = supporter.get_by_role("button", name="Strategy: choose one (required)")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(supporter.get_by_role("radio", name="Question", exact=True)).to_be_hidden()

    # The seeker starts a sentence before the supporter's next message arrives.
    seeker.locator("#text").fill("I am still thinking about what you said")

    # Enter with no strategy: nothing sent, the reason said, focus on the strategies.
    supporter.locator("#text").fill("What would you want your partner to know first?")
    supporter.locator("#text").press("Enter")
    needed = supporter.get_by_test_id("strategy-needed")
    expect(needed).to_have_text(
        "Not sent yet: choose the strategy of this message first, then send it."
    )
    expect(supporter.get_by_role("radio", name="Question", exact=True)).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert_fits(supporter, "#strategy-panel")
    # Escape folds the chips away and goes back to the toggle.
    supporter.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    # Send without a strategy does the same as Enter, and sends nothing either.
    supporter.get_by_role("button", name="Send", exact=True).click()
    expect(supporter.get_by_role("radio", name="Question", exact=True)).to_be_focused()
    expect(needed).not_to_be_empty()
    expect(supporter.locator("#messages > li.msg")).to_have_count(11)
    assert _stored(pair) == 11
    expect(supporter.locator("#text")).to_have_value(
        "What would you want your partner to know first?"
    )

    # Tapping a chip chooses it; the toggle and the help say which.
    supporter.locator(".chip", has_text="Question").tap()
    expect(needed).to_be_empty()
    expect(supporter.get_by_role("button", name="Strategy: Question")).to_be_visible()
    expect(supporter.locator("#strategy-help")).to_contain_text("Question")
    supporter.get_by_role("button", name="Send", exact=True).click()
    expect(seeker.locator("#messages > li.msg")).to_have_count(12)
    # The choice is cleared and the chips fold away after the send.
    expect(supporter.get_by_role("button", name="Strategy: choose one (required)")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # That was the sixth supporter message: a prompt, while the seeker is mid-sentence.
    expect(seeker.get_by_test_id("feedback")).to_be_visible()
    expect(seeker.locator("#text")).to_be_focused()
    expect(seeker.get_by_test_id("feedback-announce")).to_contain_text(
        "do those messages help you feel better?"
    )
    seeker.locator("#text").press("Enter")
    expect(supporter.locator("#messages > li.msg")).to_have_count(13)
    seeker.get_by_role("radio", name="4 of 5 stars").check()
    seeker.get_by_role("button", name="Send rating").click()
    expect(seeker.get_by_test_id("feedback")).to_be_hidden()
    expect(seeker.locator("#text")).to_be_focused()

    # Two more supporter messages; the second brings a prompt to a seeker who is not typing.
    seeker.locator("#text").blur()
    choose_strategy(supporter, "Reflection of feelings")
    supporter.locator("#text").fill("It sounds like you feel you owe everyone an answer already.")
    supporter.locator("#text").press("Enter")
    expect(seeker.locator("#messages > li.msg")).to_have_count(14)
    # Written first, labelled after: the chips stay open (and on screen) until the send.
    supporter.locator("#text").fill(
        "Maybe you could start by telling your partner only what you know so far."
    )
    choose_strategy(supporter, "Providing Suggestions")
    assert_fits(supporter, "#strategy-panel", "#strategy-help")
    _shot(supporter, "chat-supporter-phone")
    supporter.get_by_role("button", name="Send", exact=True).click()
    expect(seeker.locator("#messages > li.msg")).to_have_count(15)
    expect(seeker.get_by_test_id("feedback")).to_be_visible()
    expect(seeker.get_by_role("radio", name="1 of 5 stars")).to_be_focused()
    assert_fits(seeker, "#feedback")
    _shot(seeker, "chat-seeker-phone")

    # Closing the situation is remembered across a reload, and so is opening it again.
    supporter.locator("#situation summary").click()
    expect(supporter.get_by_test_id("situation")).to_be_hidden()
    supporter.reload()
    expect(supporter.locator("#conn")).to_have_text("live")
    expect(supporter.get_by_test_id("situation")).to_be_hidden()
    assert_fits(supporter)
    supporter.locator("#situation summary").click()
    supporter.reload()
    expect(supporter.locator("#conn")).to_have_text("live")
    expect(supporter.get_by_test_id("situation")).to_be_visible()

    # End conversation asks first: "Keep chatting" keeps it going.
    seeker.get_by_role("button", name="End conversation").click()
    dialog = seeker.get_by_role("dialog", name="End the conversation?")
    expect(dialog).to_contain_text("for you and your supporter")
    dialog.get_by_role("button", name="Keep chatting").click()
    expect(dialog).to_be_hidden()
    seeker.wait_for_timeout(500)
    assert Conversation.objects.get(pk=pair.conversation.pk).state == "active"
    end_conversation(seeker)
    seeker.wait_for_url("**/surveys/post-chat/")
    supporter.wait_for_url("**/surveys/post-chat/")
    conversation = Conversation.objects.get(pk=pair.conversation.pk)
    assert (conversation.end_reason, conversation.ended_by) == ("finished", "seeker")
    for page in (seeker, supporter):
        page.context.close()


def test_the_waiting_room_speaks_each_minute_and_on_the_match(
    asgi_server: str, browser: Browser
) -> None:
    call_command("load_tutorial", verbosity=0)
    run = make_run()
    seeker = waiting_seeker(ALICE, run)
    # She has waited a little over a minute already.
    Worker.objects.filter(pk=seeker.pk).update(waiting_since=timezone.now() - timedelta(seconds=62))
    context = _phone_context(browser, asgi_server, seeker)
    context.add_init_script(RECORD_STATUS)
    page = context.new_page()
    page.goto(asgi_server + "/chat/waiting/")
    status = page.get_by_test_id("waiting-status")
    expect(status).to_have_text("You have waited 1 minute. Still looking for a partner.")
    # The clock ticks outside any live region, and the status line stays as it was.
    clock = page.get_by_test_id("waited")
    expect(clock.locator(LIVE_ANCESTORS)).to_have_count(0)
    shown = clock.inner_text()
    expect(clock).not_to_have_text(shown, timeout=3000)
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('said'))") == [
        "You have waited 1 minute. Still looking for a partner."
    ]

    trained_supporter(BOB, run)
    page.wait_for_url("**/chat/room/", timeout=15_000)
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('said'))") == [
        "You have waited 1 minute. Still looking for a partner.",
        "A partner is ready. Opening the chat…",
    ]
    context.close()
