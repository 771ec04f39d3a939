"""The pre-chat survey in real Chromium: the live word counter and a keyboard-only submission."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveys.models import PreChatSurvey
from tests.browser_support import enter_as, save_screenshot
from tests.cast import ALICE
from tests.crowd.factories import quick_run
from tests.surveys.factories import situation


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_counts_words_live_and_submits_by_keyboard(asgi_server: str, page) -> None:  # type: ignore[no-untyped-def]
    quick_run("default")
    enter_as(page, asgi_server, role="seeker", prolific_pid=ALICE.pid)
    assert page.url.endswith("/surveys/pre-chat/")

    counter = page.locator("[data-word-count-for=id_situation]")
    # The counter script is a module that may attach after the page is shown: wait for it to
    # replace the server-rendered hint before typing.
    expect(counter).to_have_text("0 words — at least 20 needed")
    page.locator("#id_situation").fill(situation(19))
    expect(counter).to_have_text("19 words — at least 20 needed")
    page.locator("#id_situation").press("End")
    page.keyboard.type(" twenty")
    expect(counter).to_have_text("20 words — good (20–80)")
    page.locator("#id_situation").fill(situation(81))
    expect(counter).to_have_text("81 words — please cut to 80")
    # Invisible "words" (zero-width spaces, a Hangul filler) count for nothing, as on the server.
    page.locator("#id_situation").fill(situation(19) + " \u200b \u200b\u200d \u3164")
    expect(counter).to_have_text("19 words — at least 20 needed")
    page.locator("#id_situation").fill(situation(30))

    # Keyboard only: focus the first option of each group and pick with the arrow keys.
    page.locator("#id_problem_type_0").focus()
    page.keyboard.press("ArrowRight")  # -> job crisis
    page.locator("#id_emotion_type_0").focus()
    page.keyboard.press("Space")  # -> anxiety
    page.locator("#id_initial_emotion_intensity_0").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # -> 3
    page.locator("#id_experience_type_0").focus()
    page.keyboard.press("Space")
    save_screenshot(page, "surveys-pre-chat-filled")
    page.get_by_role("button", name="Continue to the chat").press("Enter")

    page.wait_for_url("**/chat/waiting/")
    survey = PreChatSurvey.objects.get(worker__external_id=ALICE.pid)
    assert (survey.problem_type, survey.emotion_type) == ("job crisis", "anxiety")
    assert survey.initial_emotion_intensity == 3
    assert survey.situation == situation(30)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_moves_focus_to_the_error_summary(asgi_server: str, page) -> None:  # type: ignore[no-untyped-def]
    quick_run("default")
    enter_as(page, asgi_server, role="seeker", prolific_pid=ALICE.pid)
    page.get_by_role("button", name="Continue to the chat").click()

    # The focus is moved by a module script once it runs: wait for it rather than race it.
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.locator("#id_situation").get_attribute("aria-invalid") == "true"
    assert not PreChatSurvey.objects.exists()
