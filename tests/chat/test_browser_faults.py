"""The chat page under faults, in real Chromium: what each person sees, and what is stored.

Four faults (project issue 10): the seeker's network goes silent for 75 s while she writes; the
server is killed (kill -9) under both pages and started again; the supporter closes the tab;
Redis stops while the seeker writes. Each test runs its own server and, as in production, its
own Redis for the pub/sub channel layer (tests/faults.py), with short heartbeats (a 2 s ping,
the server's 6 s timeout, a 4 s catch-up) so that detection is quick; the outages themselves
are as long as the requirement says. Pages recover by themselves: each page's window carries a
marker that a reload would lose, checked at the end.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from chat.models import Conversation, Utterance
from crowd.models import Worker
from tests.chat.factories import Pair, make_pair
from tests.crowd.factories import session_key
from tests.faults import (  # noqa: F401  (faults_fixture: the `faults` fixture)
    REDIS_SERVER,
    Faults,
    faults_fixture,
    require_redis_server,
    wait_for,
)

DROPPED = "Your partner's connection dropped. They may be back in a moment."
BACK = "Your partner is back."
LIVE = "live"
RETRYING = "not delivered yet — retrying"
OUTAGE_SECONDS = 75

# Every text the link status and the presence line show, in order, with the page's clock (the
# presence line hides itself 5 s after "back"; "offline — reconnecting" may show for half a
# second only, between two attempts); and the marker a reload would lose.
RECORD_TEXTS = """
() => {
  window.__texts = {};
  for (const id of ["conn", "presence"]) {
    const el = document.getElementById(id);
    const seen = (window.__texts[id] = []);
    const note = () => {
      const text = el.textContent;
      if (!el.hidden && seen.at(-1)?.[0] !== text) seen.push([text, performance.now()]);
    };
    note();
    new MutationObserver(note).observe(el, {
      childList: true, characterData: true, subtree: true, attributes: true,
    });
  }
  window.__sameDocument = true;
}
"""
SHOWN_SINCE = """
([id, prefix, since]) => window.__texts[id].some(([t, at]) => at >= since && t.startsWith(prefix))
"""


def _open_room(browser: Browser, base_url: str, worker: Worker) -> Page:
    """A browser of its own with the worker's session (from their entry link), in the room."""
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.add_cookies([{"name": "sessionid", "value": session_key(worker), "url": base_url}])
    page = context.new_page()
    page.goto(base_url + "/chat/room/")
    expect(page.locator("#conn")).to_have_text(LIVE, timeout=15_000)
    page.evaluate(RECORD_TEXTS)
    return page


def _rooms(
    browser: Browser, base_url: str, pair: Pair, *, seeker_url: str | None = None
) -> tuple[Page, Page]:
    """The supporter's page, then the seeker's (at `seeker_url`, e.g. through a proxy)."""
    supporter = _open_room(browser, base_url, pair.supporter)
    seeker = _open_room(browser, seeker_url or base_url, pair.seeker)
    return seeker, supporter


def _texts(page: Page, element_id: str) -> list[tuple[str, float]]:
    """What the element showed so far: (text, page clock in ms) at each change."""
    return [(str(t), float(at)) for t, at in page.evaluate(f"() => window.__texts.{element_id}")]


def _presence_seen(page: Page) -> list[str]:
    return [text for text, _ in _texts(page, "presence")]


def _page_clock(page: Page) -> float:
    return float(page.evaluate("() => performance.now()"))


def _wait_shown(
    page: Page, element_id: str, prefix: str, *, since: float, timeout_ms: float
) -> None:
    """The element showed a text starting with `prefix` after `since` (page clock), however
    briefly, within the timeout."""
    page.wait_for_function(SHOWN_SINCE, arg=[element_id, prefix, since], timeout=timeout_ms)


def _not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("() => window.__sameDocument === true"))


def _send(page: Page, text: str, *, strategy: str | None = None) -> None:
    """Type a message and press Enter (a supporter picks the strategy first)."""
    if strategy is not None:
        page.get_by_role("radio", name=strategy, exact=True).check()
    page.locator("#text").fill(text)
    page.locator("#text").press("Enter")


def _delivered(page: Page, text: str) -> Locator:
    """The message as a stored bubble (not the author's draft)."""
    return page.locator("#messages li.msg:not(.draft) .msg-text", has_text=text)


def _shown(page: Page, text: str) -> Locator:
    """The message in any bubble, draft or stored."""
    return page.locator("#messages li.msg .msg-text", has_text=text)


def _stored(pair: Pair, text: str) -> int:
    return Utterance.objects.filter(conversation=pair.conversation, text=text).count()


def _rows(pair: Pair) -> list[tuple[str, str]]:
    return list(
        Utterance.objects.filter(conversation=pair.conversation)
        .order_by("position")
        .values_list("speaker", "text")
    )


def _left_ms(since: float, seconds: float) -> float:
    """What is left of `seconds` counted from `since` (monotonic), in milliseconds."""
    return max(0.0, seconds - (time.monotonic() - since)) * 1000


def _report_link(page: Page, start: float, end: float) -> None:
    """Print how long each link status was shown between two page-clock moments."""
    shown: dict[str, float] = {}
    changes = _texts(page, "conn")
    for (text, at), (_, until) in zip(changes, [*changes[1:], ("", end)], strict=True):
        overlap = min(until, end) - max(at, start)
        if overlap > 0:
            shown[text] = shown.get(text, 0.0) + overlap / 1000
    print("link status shown during the outage (s):", {k: round(v, 1) for k, v in shown.items()})


def _channel_layer(faults: Faults) -> dict[str, str]:
    """Redis pub/sub as in production, on a private redis-server (the in-memory layer when
    there is none, except under CI, where that fails)."""
    if REDIS_SERVER is None:
        require_redis_server()
        return {}
    return {"REDIS_URL": faults.redis().url}


def _once_everywhere(pair: Pair, pages: tuple[Page, ...], *texts: str) -> None:
    """A few heartbeats and a catch-up later, each text is on each page once, and stored once."""
    pages[0].wait_for_timeout(6_000)
    for text in texts:
        for page in pages:
            expect(_shown(page, text)).to_have_count(1)
        assert _stored(pair, text) == 1, text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_75_second_outage_with_a_message_typed_offline(faults: Faults, browser: Browser) -> None:
    pair = make_pair()
    server = faults.server(**_channel_layer(faults))
    proxy = faults.proxy(server)
    seeker, supporter = _rooms(browser, server.base_url, pair, seeker_url=proxy.base_url)
    assert proxy.forwarded >= 1, "the seeker's page does not go through the proxy"
    text = "Sorry, I am still here, the train went into a tunnel."

    proxy.blackhole()
    lost_at = time.monotonic()
    lost_clock = _page_clock(seeker)
    _wait_shown(seeker, "conn", "offline", since=lost_clock, timeout_ms=_left_ms(lost_at, 10))
    expect(supporter.locator("#presence")).to_have_text(DROPPED, timeout=_left_ms(lost_at, 15))

    # Written while offline: shown at once, and said to be waiting.
    _send(seeker, text)
    draft = seeker.locator("#messages li.draft", has_text=text)
    expect(draft).to_have_count(1)
    expect(draft.locator(".msg-time")).to_have_text(RETRYING, timeout=10_000)
    expect(seeker.locator("#messages li.draft.retrying")).to_have_count(1)

    seeker.wait_for_timeout(_left_ms(lost_at, OUTAGE_SECONDS))
    # Never live in the dark ("offline — reconnecting", or "connecting…" during an attempt).
    during = [text for text, at in _texts(seeker, "conn") if at >= lost_clock]
    assert LIVE not in during, during
    expect(seeker.locator("#conn")).not_to_have_attribute("data-state", "open")
    # Between attempts the link keeps saying it is offline, not "connecting…".
    expect(seeker.locator("#conn")).to_contain_text("offline")
    expect(_shown(supporter, text)).to_have_count(0)
    assert _stored(pair, text) == 0
    proxy.restore()
    _report_link(seeker, lost_clock, _page_clock(seeker))

    # The presence line says "back" for 5 s only: look for it first.
    expect(supporter.locator("#presence")).to_have_text(BACK, timeout=30_000)
    expect(seeker.locator("#conn")).to_have_text(LIVE, timeout=30_000)
    expect(_delivered(supporter, text)).to_have_count(1, timeout=15_000)
    expect(_delivered(seeker, text)).to_have_count(1, timeout=10_000)
    expect(seeker.locator("#messages li.draft")).to_have_count(0)
    _once_everywhere(pair, (seeker, supporter), text)
    assert _rows(pair) == [("seeker", text)]
    assert _presence_seen(supporter) == [DROPPED, BACK]
    assert _not_reloaded(seeker) and _not_reloaded(supporter)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_server_killed_and_started_again(faults: Faults, browser: Browser) -> None:
    pair = make_pair()
    server = faults.server(**_channel_layer(faults))
    seeker, supporter = _rooms(browser, server.base_url, pair)
    while_down = "Did you get this? My screen froze for a moment."
    reply = "It is here now. What happened next?"
    later = "Then it all came back."

    server.kill()
    killed_at = time.monotonic()
    for page in (seeker, supporter):
        expect(page.locator("#conn")).to_contain_text("offline", timeout=10_000)
    _send(seeker, while_down)
    expect(seeker.locator("#messages li.draft .msg-time")).to_have_text(RETRYING, timeout=10_000)
    seeker.wait_for_timeout(_left_ms(killed_at, 8))  # down for 8 s
    assert _stored(pair, while_down) == 0

    server.start()  # same port, same database
    for page in (seeker, supporter):
        expect(page.locator("#conn")).to_have_text(LIVE, timeout=30_000)
    expect(_delivered(supporter, while_down)).to_have_count(1, timeout=15_000)
    expect(_delivered(seeker, while_down)).to_have_count(1, timeout=10_000)
    expect(seeker.locator("#messages li.draft")).to_have_count(0)
    _send(supporter, reply, strategy="Question")
    expect(_delivered(seeker, reply)).to_have_count(1, timeout=10_000)
    _send(seeker, later)
    expect(_delivered(supporter, later)).to_have_count(1, timeout=10_000)

    _once_everywhere(pair, (seeker, supporter), while_down, reply, later)
    assert _rows(pair) == [("seeker", while_down), ("supporter", reply), ("seeker", later)]
    assert _not_reloaded(seeker) and _not_reloaded(supporter)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_partner_closes_the_tab(faults: Faults, browser: Browser) -> None:
    pair = make_pair()
    server = faults.server(**_channel_layer(faults))
    seeker, supporter = _rooms(browser, server.base_url, pair)
    hello = "Hello, I am here to listen. What is on your mind?"
    still = "Are you still there?"
    _send(supporter, hello, strategy="Question")
    expect(_delivered(seeker, hello)).to_have_count(1, timeout=10_000)

    supporter.context.close()
    expect(seeker.locator("#presence")).to_have_text(DROPPED, timeout=15_000)
    expect(seeker.locator("#conn")).to_have_text(LIVE)
    # A closed tab ends nothing: the seeker may still write, and it is stored once.
    _send(seeker, still)
    expect(_delivered(seeker, still)).to_have_count(1, timeout=10_000)
    _once_everywhere(pair, (seeker,), hello, still)
    assert Conversation.objects.get(pk=pair.conversation.pk).state == "active"
    assert _rows(pair) == [("supporter", hello), ("seeker", still)]
    assert _presence_seen(seeker) == [DROPPED]
    assert _not_reloaded(seeker)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_message_sent_while_redis_is_down(faults: Faults, browser: Browser) -> None:
    pair = make_pair()
    redis = faults.redis()
    server = faults.server(REDIS_URL=redis.url)
    seeker, supporter = _rooms(browser, server.base_url, pair)
    before = "Hi, can we talk about my exams?"
    during = "I failed the first one and I cannot tell my parents."
    reply = "That sounds really hard. What would you like to tell them?"
    _send(seeker, before)
    expect(_delivered(supporter, before)).to_have_count(1, timeout=10_000)

    redis.stop()
    _send(seeker, during)
    # The database is up: the message is stored while Redis is down, and nobody is offline.
    wait_for(lambda: _stored(pair, during) == 1, timeout=10, what="the message is stored")
    assert not redis.running
    seeker.wait_for_timeout(3_000)
    for page in (seeker, supporter):
        expect(page.locator("#conn")).to_have_text(LIVE)

    redis.start()  # same port
    expect(_delivered(supporter, during)).to_have_count(1, timeout=30_000)
    expect(_delivered(seeker, during)).to_have_count(1, timeout=30_000)
    expect(seeker.locator("#messages li.draft")).to_have_count(0)
    _send(supporter, reply, strategy="Reflection of feelings")
    expect(_delivered(seeker, reply)).to_have_count(1, timeout=10_000)

    _once_everywhere(pair, (seeker, supporter), before, during, reply)
    assert _rows(pair) == [("seeker", before), ("seeker", during), ("supporter", reply)]
    assert _not_reloaded(seeker) and _not_reloaded(supporter)
