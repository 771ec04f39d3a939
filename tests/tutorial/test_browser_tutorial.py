"""The tutorial in real Chromium: feedback after each answer, qualification and the review,
failing for good, a phone with a keyboard and no JavaScript, and the funnel.

Set ESC_SHOTS_DIR=/tmp/shots to keep screenshots of every page (never inside the repository).
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page, expect

from crowd.models import StatusCode, Worker
from tests.browser_support import enter_as, save_screenshot
from tests.cast import BOB, FRANK, RITA, SAM, account
from tests.crowd.factories import enter
from tests.tutorial.helpers import answer_all, drawn
from tutorial.models import QuizItem, SubTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _content() -> list[SubTask]:
    call_command("load_tutorial", verbosity=0)
    return list(SubTask.objects.order_by("order"))


def _shown_item(page: Page) -> QuizItem:
    """The item the page shows, by the key its form sends back (the examiner knows the key)."""
    return QuizItem.objects.get(key=page.locator("input[name=item]").get_attribute("value"))


def _place_of(page: Page, text: str) -> int:
    texts = [t.strip() for t in page.locator(".tut-option-text").all_inner_texts()]
    return texts.index(text)


def _walk(page: Page, subtasks: list[SubTask], wrong_parts: set[int], shots: str = "") -> None:
    """Answer every part with the mouse (right, or wrong in `wrong_parts`), checking feedback."""
    page.get_by_role("link", name="Start the training").click()
    for number, subtask in enumerate(subtasks, start=1):
        expect(page.get_by_text(f"{number} of {len(subtasks)}", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text(subtask.title)
        if shots and not shots.startswith("fail"):
            save_screenshot(page, f"{shots}-{number:02d}-question")
        item = _shown_item(page)
        expect(page.locator("legend")).to_have_text(item.question)
        place = _place_of(page, item.correct_text)
        wrong = number in wrong_parts
        option = (place + 1) % len(item.options) if wrong else place
        chosen_text = page.locator(".tut-option-text").nth(option).inner_text().strip()
        page.locator(f'input[name="option"][value="{option}"]').check()
        expect(page.locator("form[data-enhanced=true]")).to_have_count(1)
        page.get_by_role("button", name="Save answer").click()
        result = page.locator("#result")
        # Right or not, and the concept; never which option is right.
        expect(result).to_contain_text("Not right." if wrong else "Right.")
        expect(result).to_contain_text(item.explanation)
        expect(page.locator("li.is-chosen")).to_contain_text(chosen_text)
        expect(page.get_by_text("Right answer")).to_have_count(0)
        expect(page.locator(".is-correct")).to_have_count(0)
        # answer.js saved it through the API in place (a form post would land on #result)
        # and moved focus to the announced result.
        assert "#result" not in page.url
        expect(result).to_be_focused()
        expect(page.locator("input[name=option]").first).to_be_disabled()
        expect(page.locator("#answered-count")).to_have_text(str(number))
        if shots and (number in (1, 2) or wrong):
            save_screenshot(page, f"{shots}-{number:02d}-answered")
        next_name = "Next →" if number < len(subtasks) else "Review and submit →"
        page.get_by_role("link", name=next_name).click()


def test_it_qualifies_a_new_supporter_who_answers_everything_right(
    asgi_server: str, page: Page
) -> None:
    subtasks = _content()

    enter_as(page, asgi_server, role="supporter", prolific_pid=BOB.pid)
    expect(page).to_have_url(f"{asgi_server}/tutorial/")
    expect(page.get_by_text("the order is a guide, not a script")).to_be_visible()
    save_screenshot(page, "desktop-00-intro")
    _walk(page, subtasks, wrong_parts=set(), shots="desktop")

    expect(page.get_by_text("Right", exact=True)).to_have_count(11)
    save_screenshot(page, "desktop-12-review")
    page.get_by_role("button", name="Submit my answers").click()

    expect(page).to_have_url(f"{asgi_server}/chat/waiting/")
    bob = Worker.objects.get(external_id=BOB.pid)
    assert bob.qualification == Worker.Qualification.QUALIFIED
    assert bob.stage == Worker.Stage.WAITING
    link = page.get_by_test_id("training-review-link")
    expect(link).to_have_attribute("href", "/tutorial/review/")
    review = page.context.new_page()  # the link opens a tab of its own
    review.goto(f"{asgi_server}/tutorial/review/")
    expect(review.get_by_test_id("reviewed-item")).to_have_count(11)
    expect(review.get_by_text("Right answer", exact=True)).to_have_count(11)
    save_screenshot(review, "desktop-13-answers")


def test_it_ends_with_the_review_and_status_00_after_failing_twice(
    asgi_server: str, page: Page
) -> None:
    subtasks = _content()

    enter_as(page, asgi_server, role="supporter", prolific_pid=FRANK.pid)
    _walk(page, subtasks, wrong_parts={3}, shots="fail")
    expect(page.get_by_test_id("cannot-pass")).to_be_visible()
    save_screenshot(page, "fail-12-review")
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", name="Not passed this time")).to_be_visible()
    expect(page.get_by_text("1 attempt left")).to_be_visible()
    expect(page.get_by_test_id("not-right-parts")).to_have_text(subtasks[2].title)
    save_screenshot(page, "desktop-13-result")
    page.get_by_role("button", name="Start attempt 2").click()
    expect(page.get_by_text("attempt 2 of 2")).to_be_visible()
    page.get_by_role("link", name="← Introduction").click()
    _walk(page, subtasks, wrong_parts={3, 9})
    page.get_by_role("button", name="Submit my answers").click()

    expect(page).to_have_url(f"{asgi_server}/tutorial/review/")
    expect(page.get_by_test_id("reviewed-item")).to_have_count(22)
    expect(page.get_by_text("Right answer", exact=True)).to_have_count(22)
    save_screenshot(page, "desktop-14-answers")
    page.get_by_role("link", name="Get your completion code").click()
    expect(page).to_have_url(f"{asgi_server}/done/")
    frank = Worker.objects.get(external_id=FRANK.pid)
    assert frank.status_code == StatusCode.FAILED_TRAINING
    expect(page.get_by_test_id("status-code")).to_have_text(re.compile(r"^\s*00\b"))
    expect(page.get_by_test_id("completion-code")).to_have_text(frank.completion_code)
    save_screenshot(page, "desktop-15-failed")

    page.goto(f"{asgi_server}/tutorial/1/")  # no way back in
    expect(page).to_have_url(f"{asgi_server}/done/")


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_it_works_on_a_phone_with_the_keyboard_alone_and_no_javascript(
    asgi_server: str, browser
) -> None:
    _content()
    # JavaScript off: the plain form posts must do the whole job on a real phone-sized browser.
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, java_script_enabled=False
    )
    page = context.new_page()
    try:
        enter_as(page, asgi_server, role="supporter", prolific_pid=SAM.pid)
        save_screenshot(page, "phone-00-intro")
        _tab_to(page, "a[href='/tutorial/1/']")
        page.keyboard.press("Enter")
        sam = Worker.objects.get(external_id=SAM.pid)
        for number in (1, 2, 3):
            expect(page.get_by_text(f"{number} of 11", exact=True)).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            shown = drawn(sam, number)
            place = shown.shown_position(shown.item.correct_option)
            _tab_to(page, "input[name='option']")
            page.keyboard.press("Space")  # checks the first option
            for _ in range(place):
                page.keyboard.press("ArrowDown")
            expect(page.locator(f"input[name='option'][value='{place}']")).to_be_checked()
            if number == 1:
                save_screenshot(page, "phone-01-focused")
            _tab_to(page, "button[type='submit']")
            page.keyboard.press("Enter")
            expect(page.locator("#result")).to_contain_text("Right.")
            expect(page.locator("#result")).to_contain_text(shown.item.explanation)
            if number == 1:
                save_screenshot(page, "phone-02-answered")
            _tab_to(page, "a[rel='next']")
            page.keyboard.press("Enter")
        expect(page.get_by_text("4 of 11", exact=True)).to_be_visible()
        save_screenshot(page, "phone-04-question")
    finally:
        context.close()
    assert sam.quiz_attempts.get().answers.filter(is_correct=True).count() == 3


def test_it_shows_the_funnel_to_a_researcher(asgi_server: str, page: Page) -> None:
    _content()
    # Bob passes; Frank and Sam fail their first attempt and are still in training.
    for actor, wrong_parts in ((BOB, set()), (FRANK, {2, 5}), (SAM, {2})):
        client = Client()
        enter(actor, client=client)
        answer_all(client, wrong_parts=wrong_parts)
        client.post("/tutorial/submit/")
    researcher = Client()
    researcher.force_login(account(RITA))
    page.context.add_cookies(
        [{"name": "sessionid", "value": researcher.cookies["sessionid"].value, "url": asgi_server}]
    )

    page.goto(f"{asgi_server}/tutorial/funnel/")

    expect(page.get_by_test_id("started")).to_have_text("3")
    expect(page.get_by_test_id("passed")).to_have_text("1")
    expect(page.get_by_test_id("in-training")).to_have_text("2")
    expect(page.get_by_role("row", name=re.compile("Strategy: Question"))).to_contain_text("67%")
    expect(page.get_by_test_id("item-question-1")).to_be_visible()
    save_screenshot(page, "staff-funnel")
