"""In Chromium: how a message was written, measured by the chat page itself. Typed at a
person's pace (on a desktop, on a phone, or through an input method's composition) it raises
nothing; a pasted paragraph is answered at once and flagged; a run that refuses long pastes
keeps them out of the box. A script in the browser that talks to the socket without the chat
page is flagged, with composition data or without; one paragraph sent into three chats of a
run is flagged in each, and a reviewer follows its matches."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from authenticity.models import Checked
from chat.models import Conversation, Utterance
from crowd import vocabulary
from quality.models import Flag
from tests.cast import RITA, account
from tests.chat.factories import make_pair
from tests.chat.sockets import login_cookie
from tests.crowd.factories import make_run, session_key
from tests.quality.factories import extra

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
    """The conversation's authenticity flags once every message of it was judged.

    Messages are judged in the screening batches after the acknowledgement and marked
    (`Checked`) once both batches are done, so waiting for the marks, not for a fixed time,
    keeps a busy machine from reading the flags before they are written.
    """
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stored = Utterance.objects.filter(conversation=conversation).count()
        judged = Checked.objects.filter(utterance__conversation=conversation).count()
        if stored and judged >= stored:
            break
        time.sleep(0.1)
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


# A script on a page of the site (not the chat page) that opens the chat's socket with the
# worker's cookie and sends its frames, as a bot driving a browser would; the acks it got.
SCRIPT = """async ({path, frames}) => {
  const ws = new WebSocket(`ws://${location.host}${path}`);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const acks = [];
  ws.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "ack") acks.push(frame.seq);
  };
  for (const frame of frames) ws.send(JSON.stringify(frame));
  const deadline = Date.now() + 10000;
  while (acks.length < frames.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  ws.close();
  return acks;
}"""


def _scripted(browser: Browser, base: str, conversation: Conversation, frames: list[Any]) -> Any:
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": session_key(conversation.seeker), "url": base}]
    )
    page = context.new_page()
    page.goto(base + "/")
    acks = page.evaluate(SCRIPT, {"path": f"/ws/chat/{conversation.pk}/", "frames": frames})
    context.close()
    return acks


def test_a_script_without_the_chat_page_is_flagged_no_composition_data(
    asgi_server: str, browser: Browser
) -> None:
    pair = make_pair()
    frames = [{"type": "message", "id": f"bot-{n}", "text": f"{SENTENCE} ({n})"} for n in (1, 2)]
    assert _scripted(browser, asgi_server, pair.conversation, frames) == [1, 2]
    assert _stored(pair.conversation, 1) is None and _stored(pair.conversation, 2) is None
    assert _flags(pair.conversation) == [("authenticity_no_composition", 1)]


def test_a_script_inventing_plausible_composition_data_is_flagged(
    asgi_server: str, browser: Browser
) -> None:
    pair = make_pair()
    made_up = {"ms": 14_000, "inputs": len(SENTENCE), "typed": len(SENTENCE), "pasted": 0}
    made_up |= {"pastes": 0, "deleted": 2, "blurs": 0, "since_focus_ms": None}
    frame = {"type": "message", "id": "bot-1", "text": SENTENCE, "compose": made_up}
    assert _scripted(browser, asgi_server, pair.conversation, [frame]) == [1]
    stored = _stored(pair.conversation, 1)
    assert stored is not None and stored["ms"] == 14_000 and stored["typing_frames"] == 0
    assert _flags(pair.conversation) == [("authenticity_unconfirmed", 1)]


def test_a_paragraph_sent_into_three_chats_is_flagged_with_its_matches(
    asgi_server: str, browser: Browser
) -> None:
    run = make_run()
    pairs = [
        make_pair(run, seeker=extra(vocabulary.SEEKER, n), supporter=extra(vocabulary.SUPPORTER, n))
        for n in (1, 2, 3)
    ]
    for pair in pairs:
        page = _seeker_page(browser, asgi_server, pair.conversation)
        page.locator("#text").fill(PARAGRAPH)
        _sent(page, 1)
        page.context.close()
    ids = [pair.conversation.pk for pair in pairs]
    duplicates = Flag.objects.filter(kind="authenticity_duplicate").order_by("conversation_id")
    deadline = time.monotonic() + 10  # judged in the run-wide batch, a second at a time
    while len(duplicates) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        duplicates = duplicates.all()
    assert [(f.conversation_id, f.utterance.position, f.score) for f in duplicates] == [
        (pk, 1, 1.0) for pk in ids
    ]
    last = duplicates.get(conversation_id=ids[2])
    assert last.matches == [
        {"conversation": ids[0], "position": 1},
        {"conversation": ids[1], "position": 1},
    ]

    Conversation.objects.filter(pk__in=ids).update(quality_status="review")
    context = browser.new_context()
    session = login_cookie(account(RITA)).split("=", 1)[1]
    context.add_cookies([{"name": "sessionid", "value": session, "url": asgi_server}])
    review = context.new_page()
    review.goto(f"{asgi_server}/quality/review/{ids[2]}/")
    matches = review.get_by_test_id(f"matches-{last.pk}")
    expect(matches).to_contain_text(f"conversation {ids[0]}, message 1")
    expect(matches).to_contain_text(f"conversation {ids[1]}, message 1")
    matches.get_by_role("link", name=f"conversation {ids[0]}, message 1").click()
    review.wait_for_url(f"**/quality/review/{ids[0]}/#message-1")
    expect(review.locator("#message-1")).to_contain_text(PARAGRAPH)
    flag = review.locator("#message-1 .flag", has_text="sent into other conversations")
    expect(flag).to_have_count(1)
    context.close()
