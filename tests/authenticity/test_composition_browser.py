"""In Chromium: how a message was written, measured by the chat page itself. Typed at a
person's pace (on a desktop, on a phone, or through an input method's composition) it raises
nothing; a pasted paragraph is answered at once and flagged; a run that refuses long pastes
keeps them out of the box."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from chat.models import Conversation, Utterance
from quality.models import Flag
from tests.chat.factories import make_pair
from tests.crowd.factories import session_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SENTENCE = "I have not slept well for weeks and I feel alone with it."
PARAGRAPH = (
    "It is completely understandable to feel overwhelmed when so many responsibilities "
    "pile up at once, and it is important to remember that your feelings are valid."
)


def _seeker_page(browser: Browser, base: str, conversation: Any, **context: Any) -> Page:
    page_context = browser.new_context(**context)
    page_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page_context.add_cookies(
        [{"name": "sessionid", "value": session_key(conversation.seeker), "url": base}]
    )
    page = page_context.new_page()
    page.goto(base + "/chat/room/")
    expect(page.locator("#conn")).to_have_text("live", timeout=15_000)
    return page


def _sent(page: Page, count: int) -> None:
    page.locator("#send").click()
    expect(page.locator(".msg.mine:not(.draft)")).to_have_count(count, timeout=10_000)


def _stored(conversation: Conversation, position: int) -> dict[str, Any] | None:
    utterance = Utterance.objects.get(conversation=conversation, position=position)
    return utterance.compose


def _flags(conversation: Conversation) -> list[tuple[str, int]]:
    time.sleep(0.5)  # judged in the screening batch, after the acknowledgement
    rows = Flag.objects.filter(conversation=conversation, kind__startswith="authenticity_")
    return list(rows.values_list("kind", "utterance__position"))


def test_typing_at_a_human_pace_is_not_flagged(asgi_server: str, browser: Browser) -> None:
    pair = make_pair()
    page = _seeker_page(browser, asgi_server, pair.conversation)
    page.locator("#text").press_sequentially(SENTENCE, delay=110)
    _sent(page, 1)
    compose = _stored(pair.conversation, 1)
    assert compose is not None
    assert compose["typed"] == len(SENTENCE) and compose["pasted"] == 0
    assert compose["ms"] >= 110 * (len(SENTENCE) - 1) and compose["typing_frames"] >= 1
    assert _flags(pair.conversation) == []
    page.context.close()


def test_typing_on_a_phone_and_through_an_input_method_is_not_flagged(
    asgi_server: str, browser: Browser
) -> None:
    pair = make_pair()
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    page = _seeker_page(browser, asgi_server, pair.conversation, **phone)
    page.locator("#text").tap()
    page.locator("#text").press_sequentially(SENTENCE, delay=110)
    _sent(page, 1)

    # An input method composes a word, then commits it: composition text, not a paste.
    cdp = page.context.new_cdp_session(page)
    page.locator("#text").focus()
    # Pinyin typed a letter at a time into the composition, then the word committed.
    for pinyin, word in (("wo", "我"), ("hen", "很"), ("lei", "累"), ("shuibuhao", "睡不好")):
        for end in range(1, len(pinyin) + 1):
            composing = {"text": pinyin[:end], "selectionStart": end, "selectionEnd": end}
            cdp.send("Input.imeSetComposition", composing)
            time.sleep(0.12)
        cdp.send("Input.insertText", {"text": word})
        time.sleep(0.2)
    _sent(page, 2)
    composed = _stored(pair.conversation, 2)
    assert composed is not None and composed["pasted"] == 0 and composed["pastes"] == 0
    assert composed["inputs"] > 4
    assert _flags(pair.conversation) == []
    page.context.close()


def test_a_pasted_paragraph_is_answered_at_once_and_flagged(
    asgi_server: str, browser: Browser
) -> None:
    pair = make_pair()
    page = _seeker_page(browser, asgi_server, pair.conversation)
    page.evaluate("text => navigator.clipboard.writeText(text)", PARAGRAPH)
    page.locator("#text").click()
    page.keyboard.press("Control+V")
    expect(page.locator("#notice")).to_contain_text("write in your own words", timeout=1_000)
    _sent(page, 1)
    compose = _stored(pair.conversation, 1)
    assert compose is not None and compose["pasted"] == len(PARAGRAPH) and compose["pastes"] == 1
    assert _flags(pair.conversation) == [("authenticity_pasted", 1)]
    page.context.close()


def test_a_run_that_refuses_long_pastes_keeps_them_out(asgi_server: str, browser: Browser) -> None:
    pair = make_pair(paste_policy="refuse", paste_max_chars=40)
    page = _seeker_page(browser, asgi_server, pair.conversation)
    page.evaluate("text => navigator.clipboard.writeText(text)", PARAGRAPH)
    page.locator("#text").click()
    page.keyboard.press("Control+V")
    expect(page.locator("#notice")).to_contain_text("Pasting longer text is turned off")
    expect(page.locator("#text")).to_have_value("")
    page.evaluate("text => navigator.clipboard.writeText(text)", "ok")
    page.keyboard.press("Control+V")
    expect(page.locator("#text")).to_have_value("ok")
    page.context.close()
