"""The tutorial in real Chromium: qualification, failing for good, and a phone with a keyboard.

Set ESC_SHOTS_DIR=/tmp/shots to keep screenshots of every page (never inside the repository).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crowd.models import StatusCode, Worker
from tests.browser_support import enter_as, save_screenshot
from tests.cast import BOB, FRANK, RITA, SAM, account
from tutorial.models import SubTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer_by_mouse(page: Page, option: int) -> None:
    page.locator(f'input[name="option"][value="{option}"]').check()
    page.get_by_role("button", name="Save answer").click()


def _walk(page: Page, subtasks: list[SubTask], wrong_parts: set[int], shots: str = "") -> None:
    page.get_by_role("link", name="Start the training").click()
    for number, subtask in enumerate(subtasks, start=1):
        expect(page.get_by_text(f"{number} of {len(subtasks)}", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text(subtask.title)
        if shots and not shots.startswith("fail"):
            save_screenshot(page, f"{shots}-{number:02d}-question")
        wrong = number in wrong_parts
        option = (
            (subtask.correct_option + 1) % len(subtask.options) if wrong else subtask.correct_option
        )
        _answer_by_mouse(page, option)
        # Saved, never graded in front of the worker: right and wrong answers read the same.
        expect(page.get_by_role("status")).to_contain_text("Answer saved.")
        expect(page.get_by_role("status")).not_to_contain_text(subtask.explanation)
        expect(page.locator("li.is-chosen")).to_contain_text(subtask.options[option])
        expect(page.get_by_text("Correct answer")).to_have_count(0)
        # answer.js saved it through the API in place (a form post would land on #result)
        # and moved focus to the announced result.
        assert "#result" not in page.url
        expect(page.locator("#result")).to_be_focused()
        expect(page.locator("input[name=option]").first).to_be_disabled()
        expect(page.locator("#answered-count")).to_have_text(str(number))
        if shots and (number in (1, 2) or wrong):
            save_screenshot(page, f"{shots}-{number:02d}-answered")
        next_name = "Next →" if number < len(subtasks) else "Review and submit →"
        page.get_by_role("link", name=next_name).click()


def test_it_qualifies_a_new_supporter_who_answers_everything_right(
    asgi_server: str, page: Page
) -> None:
    from django.core.management import call_command

    call_command("load_tutorial", verbosity=0)
    subtasks = list(SubTask.objects.order_by("order"))

    enter_as(page, asgi_server, role="supporter", prolific_pid=BOB.pid)
    expect(page).to_have_url(f"{asgi_server}/tutorial/")
    expect(page.get_by_text("the order is a guide, not a script")).to_be_visible()
    save_screenshot(page, "desktop-00-intro")
    _walk(page, subtasks, wrong_parts=set(), shots="desktop")

    save_screenshot(page, "desktop-12-review")
    page.get_by_role("button", name="Submit my answers").click()

    expect(page).to_have_url(f"{asgi_server}/chat/waiting/")
    bob = Worker.objects.get(external_id=BOB.pid)
    assert bob.qualification == Worker.Qualification.QUALIFIED
    assert bob.stage == Worker.Stage.WAITING


def test_it_ends_with_status_00_after_failing_twice(asgi_server: str, page: Page) -> None:
    from django.core.management import call_command

    call_command("load_tutorial", verbosity=0)
    subtasks = list(SubTask.objects.order_by("order"))

    enter_as(page, asgi_server, role="supporter", prolific_pid=FRANK.pid)
    _walk(page, subtasks, wrong_parts={3}, shots="fail")
    expect(page.get_by_text("Wrong", exact=True)).to_have_count(0)  # no grade before submitting
    save_screenshot(page, "fail-12-review")
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", name="Not passed this time")).to_be_visible()
    expect(page.get_by_text("1 attempt left")).to_be_visible()
    save_screenshot(page, "desktop-13-result")
    page.get_by_role("button", name="Start attempt 2").click()
    expect(page.get_by_text("attempt 2 of 2")).to_be_visible()
    page.get_by_role("link", name="← Introduction").click()
    _walk(page, subtasks, wrong_parts={3, 9})
    page.get_by_role("button", name="Submit my answers").click()

    expect(page).to_have_url(f"{asgi_server}/done/")
    frank = Worker.objects.get(external_id=FRANK.pid)
    assert frank.status_code == StatusCode.FAILED_TRAINING
    expect(page.get_by_test_id("status-code")).to_have_text(re.compile(r"^\s*00\b"))
    expect(page.get_by_test_id("completion-code")).to_have_text(frank.completion_code)
    save_screenshot(page, "desktop-14-failed")

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
    from django.core.management import call_command

    call_command("load_tutorial", verbosity=0)
    subtasks = list(SubTask.objects.order_by("order"))
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
        for number in (1, 2, 3):
            subtask = subtasks[number - 1]
            expect(page.get_by_text(f"{number} of 11", exact=True)).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            _tab_to(page, "input[name='option']")
            page.keyboard.press("Space")  # checks the first option
            for _ in range(subtask.correct_option):
                page.keyboard.press("ArrowDown")
            expect(
                page.locator(f"input[name='option'][value='{subtask.correct_option}']")
            ).to_be_checked()
            if number == 1:
                save_screenshot(page, "phone-01-focused")
            _tab_to(page, "button[type='submit']")
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_contain_text("Answer saved.")
            if number == 1:
                save_screenshot(page, "phone-02-answered")
            _tab_to(page, "a[rel='next']")
            page.keyboard.press("Enter")
        expect(page.get_by_text("4 of 11", exact=True)).to_be_visible()
        save_screenshot(page, "phone-04-question")
    finally:
        context.close()
    sam = Worker.objects.get(external_id=SAM.pid)
    assert sam.quiz_attempts.get().answers.filter(is_correct=True).count() == 3


def test_it_shows_the_funnel_to_a_researcher(asgi_server: str, page: Page) -> None:
    from django.core.management import call_command
    from django.test import Client

    from tests.crowd.factories import enter

    call_command("load_tutorial", verbosity=0)
    subtasks = list(SubTask.objects.order_by("order"))
    # Bob passes; Frank and Sam fail their first attempt and are still in training.
    for actor, wrong_parts in ((BOB, set()), (FRANK, {2, 5}), (SAM, {2})):
        client = Client()
        enter(actor, client=client)
        for number, subtask in enumerate(subtasks, start=1):
            option = subtask.correct_option
            if number in wrong_parts:
                option = (option + 1) % len(subtask.options)
            client.post(f"/tutorial/{number}/", {"option": str(option)})
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
    save_screenshot(page, "staff-funnel")
