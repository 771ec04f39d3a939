"""A whole chat in real Chromium: matching, ten turns, strategies, feedback, a reload, the end."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from chat.models import Conversation, Utterance
from crowd.models import Worker
from tests.cast import ALICE, BOB, RITA, account
from tests.chat.factories import make_pair
from tests.chat.sockets import login_cookie
from tests.crowd.factories import make_run, session_key
from tests.tutorial.factories import pass_training
from tutorial.models import SubTask

SHOTS = Path(os.environ.get("ESC_SHOTS_DIR", "/tmp/shots"))
STRATEGIES = [
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Self-disclosure",
    "Affirmation and Reassurance",
    "Providing Suggestions",
    "Information",
    "Others",
    "Question",
    "Affirmation and Reassurance",
]
SITUATION = (
    "My manager told me last week that my team will be cut next month and I do not know "
    "how I will pay the rent or tell my family about it."
)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _enter(page: Page, base_url: str, run_name: str, role: str, pid: str) -> None:
    page.goto(
        f"{base_url}/start/?role={role}&PROLIFIC_PID={pid}&STUDY_ID=study1"
        f"&SESSION_ID=s-{pid}&run={run_name}"
    )
    page.get_by_label("I have read this and agree to take part.").check()
    page.get_by_role("button", name="Continue").click()


def fill_pre_chat_survey(seeker: Page, situation: str) -> None:
    """Answer the pre-chat survey (job crisis, anxiety at 4, now) and go on to the chat."""
    seeker.locator('input[name="problem_type"][value="job crisis"]').check()
    seeker.locator('input[name="emotion_type"][value="anxiety"]').check()
    seeker.locator('input[name="initial_emotion_intensity"][value="4"]').check()
    seeker.locator('textarea[name="situation"]').fill(situation)
    seeker.locator('input[name="experience_type"][value="Current Experience"]').check()
    seeker.get_by_role("button", name="Continue to the chat").click()


def _confirmed(page: Page) -> Any:
    return page.locator("#messages li.msg:not(.draft)")


def choose_strategy(page: Page, name: str) -> None:
    """Pick the strategy of the next message as a supporter does, at any width: on a phone the
    chips sit behind the "Strategy: …" toggle, which is opened first."""
    toggle = page.get_by_role("button", name=re.compile(r"^Strategy:"))
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.get_by_role("radio", name=name, exact=True).check()


def end_conversation(seeker: Page) -> None:
    """The seeker's End conversation, confirmed in its dialog."""
    seeker.get_by_role("button", name="End conversation").click()
    dialog = seeker.get_by_role("dialog", name="End the conversation?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="End now").click()


def _rate(seeker: Page, score: int) -> None:
    panel = seeker.locator("#feedback")
    expect(panel).to_be_visible()
    seeker.get_by_role("radio", name=f"{score} of 5 stars").check()
    seeker.get_by_role("button", name="Send rating").click()
    expect(panel).to_be_hidden()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_runs_a_whole_chat_in_two_browsers(asgi_server: str, browser: Browser) -> None:
    call_command("load_tutorial", verbosity=0)
    definitions = dict(
        SubTask.objects.filter(kind=SubTask.Kind.STRATEGY).values_list("key", "definition")
    )
    run = make_run(min_seconds_to_end=0, min_turns_to_end=10, feedback_every=2)
    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    supporter = desktop.new_page()
    seeker = phone.new_page()

    # The seeker fills the pre-chat survey on its page and lands in the waiting room.
    _enter(seeker, asgi_server, run.name, "seeker", ALICE.pid)
    fill_pre_chat_survey(seeker, SITUATION)
    seeker.wait_for_url("**/chat/waiting/")
    expect(seeker.get_by_role("heading", name="Finding you a chat partner…")).to_be_visible()
    expect(seeker.get_by_test_id("waited")).not_to_have_text("0:00", timeout=5000)
    _shot(seeker, "chat-waiting-phone")

    # The supporter's quiz is answered through the tutorial services to keep the test fast.
    _enter(supporter, asgi_server, run.name, "supporter", BOB.pid)
    pass_training(Worker.objects.get(run=run, external_id=BOB.pid))
    supporter.goto(asgi_server + "/chat/waiting/")
    supporter.wait_for_url("**/chat/room/", timeout=15000)
    seeker.wait_for_url("**/chat/room/", timeout=15000)
    expect(supporter.locator("#conn")).to_have_text("live")
    expect(seeker.locator("#conn")).to_have_text("live")
    # The seeker's page has no strategy control at all.
    expect(seeker.locator('input[name="strategy"]')).to_have_count(0)

    sent = 0
    scores = []
    for turn in range(10):
        seeker.locator("#text").fill(f"Seeker line {turn}: it is hard <b>really</b>.")
        seeker.locator("#text").press("Enter")
        sent += 1
        expect(_confirmed(supporter)).to_have_count(sent)

        send = supporter.get_by_role("button", name="Send", exact=True)
        supporter.locator("#text").fill(f"Supporter line {turn}.")
        if turn == 0:
            # Enter without a strategy sends nothing, says why and goes to the strategies.
            supporter.locator("#text").press("Enter")
            expect(supporter.get_by_test_id("strategy-needed")).to_contain_text(
                "choose the strategy of this message first"
            )
            expect(supporter.get_by_role("radio", name="Question", exact=True)).to_be_focused()
            expect(supporter.locator("#messages li.msg")).to_have_count(sent)
            expect(supporter.locator("#text")).to_have_value("Supporter line 0.")
        choose_strategy(supporter, STRATEGIES[turn])
        if turn == 0:
            expect(supporter.get_by_test_id("strategy-needed")).to_be_empty()
        help_panel = supporter.locator("#strategy-help")
        expect(help_panel).to_contain_text(STRATEGIES[turn])
        expect(help_panel).to_contain_text(definitions[STRATEGIES[turn]][:40])
        expect(send).to_be_enabled()
        send.click()
        sent += 1
        expect(_confirmed(seeker)).to_have_count(sent)
        # The strategy resets after each send.
        expect(supporter.locator('input[name="strategy"]:checked')).to_have_count(0)

        if turn == 5:
            # Reload in the middle of the chat, with a feedback prompt open: nothing is lost.
            seeker.reload()
            expect(seeker.locator("#conn")).to_have_text("live")
            expect(_confirmed(seeker)).to_have_count(sent)
        if turn == 1:
            expect(seeker.locator("#feedback")).to_be_visible()
            _shot(seeker, "chat-seeker-feedback-phone")
        if turn % 2 == 1:
            score = turn % 5 + 1
            _rate(seeker, score)
            scores.append(score)
        if turn == 3:
            choose_strategy(supporter, "Reflection of feelings")
            supporter.locator("#text").fill("It sounds like you feel")
            _shot(supporter, "chat-supporter-desktop")
            supporter.locator("#text").fill("")
            supporter.evaluate(
                "document.querySelectorAll('input[name=strategy]')"
                ".forEach(i => { i.checked = false; })"
            )
            _shot(seeker, "chat-seeker-phone-midway")

    # Text is shown as typed, never as HTML.
    expect(seeker.locator("#messages b")).to_have_count(0)
    expect(seeker.locator("#messages")).to_contain_text("<b>really</b>")
    expect(seeker.get_by_test_id("turns")).to_have_text("10")
    # Strategies show on the supporter's side only.
    expect(supporter.locator(".msg-strategy")).to_have_count(10)
    expect(seeker.locator(".msg-strategy")).to_have_count(0)

    seeker.locator("#text").fill("Thank you, this helped me a lot.")
    seeker.locator("#text").press("Enter")
    sent += 1
    expect(_confirmed(supporter)).to_have_count(sent)
    seeker.set_viewport_size({"width": 1280, "height": 900})
    _shot(seeker, "chat-seeker-desktop")
    supporter.set_viewport_size({"width": 390, "height": 844})
    _shot(supporter, "chat-supporter-phone-end")

    end = seeker.get_by_role("button", name="End conversation")
    expect(end).to_be_enabled()
    expect(seeker.locator("#end-hint")).to_contain_text("You can end the conversation now")
    end_conversation(seeker)
    seeker.wait_for_url("**/surveys/post-chat/")
    supporter.wait_for_url("**/surveys/post-chat/")

    conversation = Conversation.objects.get(seeker__external_id=ALICE.pid)
    assert (conversation.state, conversation.end_reason, conversation.ended_by) == (
        "ended",
        "finished",
        "seeker",
    )
    assert conversation.situation == SITUATION
    rows = list(
        Utterance.objects.filter(conversation=conversation)
        .order_by("position")
        .values_list("position", "speaker", "text", "strategy", "feedback")
    )
    assert [r[0] for r in rows] == list(range(1, 22))
    assert [r[1] for r in rows] == ["seeker", "supporter"] * 10 + ["seeker"]
    assert [r[3] for r in rows if r[1] == "supporter"] == STRATEGIES
    assert all(r[3] is None for r in rows if r[1] == "seeker")
    assert rows[2][2] == "Seeker line 1: it is hard <b>really</b>."
    # Each rating sits on the seeker's first message after it was given (docs/protocol.md):
    # prompts follow supporter messages 2, 4, 6, 8, 10, i.e. positions 4, 8, 12, 16, 20.
    feedback = {r[0]: r[4] for r in rows if r[4] is not None}
    assert feedback == dict(zip([5, 9, 13, 17, 21], scores, strict=True))
    statuses = dict(Worker.objects.filter(run=run).values_list("external_id", "status_code"))
    assert statuses == {"alice": "03", "bob": "03"}
    desktop.close()
    phone.close()


def _as_worker(browser: Browser, base_url: str, worker: Worker, **context_args: Any) -> Page:
    """A browser context whose session is bound to this worker (as the entry link would do)."""
    context = browser.new_context(**context_args)
    key = session_key(worker)
    context.add_cookies([{"name": "sessionid", "value": key, "url": base_url}])
    return context.new_page()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_leaves_after_confirmation_and_sends_each_side_on(
    asgi_server: str, browser: Browser
) -> None:
    pair = make_pair()
    seeker = _as_worker(browser, asgi_server, pair.seeker)
    supporter = _as_worker(browser, asgi_server, pair.supporter)
    for page in (seeker, supporter):
        page.goto(asgi_server + "/chat/room/")
        expect(page.locator("#conn")).to_have_text("live")

    # Rita, staff, watches live, read-only, with strategies.
    staff_key = login_cookie(account(RITA)).split("=", 1)[1]
    staff_context = browser.new_context(viewport={"width": 1280, "height": 800})
    staff_context.add_cookies([{"name": "sessionid", "value": staff_key, "url": asgi_server}])
    staff = staff_context.new_page()
    staff.goto(asgi_server + "/chat/live/")
    staff.get_by_role("link", name="Watch").click()
    expect(staff.locator("#conn")).to_have_text("live")
    expect(staff.locator("#composer")).to_have_count(0)
    choose_strategy(supporter, "Question")
    supporter.locator("#text").fill("What is on your mind today?")
    supporter.get_by_role("button", name="Send", exact=True).click()
    expect(staff.locator(".msg-strategy")).to_have_text(["Question"])
    expect(seeker.locator("#messages")).to_contain_text("What is on your mind today?")
    _shot(staff, "chat-staff-live")

    # Cancelling the dialog keeps the chat going.
    supporter.get_by_role("button", name="Leave", exact=True).click()
    dialog = supporter.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Stay").click()
    expect(dialog).to_be_hidden()
    assert Conversation.objects.get(pk=pair.conversation.pk).state == "active"

    supporter.get_by_role("button", name="Leave", exact=True).click()
    supporter.get_by_role("dialog").get_by_role("button", name="Leave now").click()
    # The seeker is told what happened, in plain words, before moving on.
    expect(seeker.locator("#notice")).to_contain_text("Your supporter left the conversation")
    expect(seeker.get_by_role("link", name="Continue")).to_be_focused()
    supporter.wait_for_url("**/done/")
    seeker.wait_for_url("**/surveys/post-chat/")
    expect(supporter.get_by_test_id("status-code")).to_contain_text("01")
    conversation = Conversation.objects.get(pk=pair.conversation.pk)
    assert (conversation.end_reason, conversation.ended_by) == ("supporter_left", "supporter")
    expect(staff.locator("#notice")).to_contain_text("ended")
    for page in (seeker, supporter, staff):
        page.context.close()
