"""The post-chat survey after the supporter left, in real Chromium under the strict CSP."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from surveys.models import SeekerPostChatSurvey
from tests.browser_support import off_the_event_loop, save_screenshot
from tests.chat.factories import Pair
from tests.crowd.factories import session_key
from tests.surveys.endings import BY_NAME, SUPPORTER_LEFT, chat_that_ends


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_seeker_left_alone_answers_what_fits_and_finishes(
    asgi_server: str, browser: Browser
) -> None:
    def build() -> tuple[Pair, str]:
        pair = chat_that_ends(BY_NAME["supporter-left"], None, None)
        return pair, session_key(pair.seeker)

    pair, session = off_the_event_loop(build)
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": session, "url": asgi_server}])
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda msg: refused.append(msg.text) if "Content Security" in msg.text else None
    )

    page.goto(f"{asgi_server}/surveys/post-chat/")

    expect(page.locator(".survey-ending")).to_contain_text(SUPPORTER_LEFT)
    expect(page.locator('input[name="ended_naturally"]')).to_have_count(0)
    page.locator('input[name="final_emotion_intensity"][value="2"]').check()
    page.locator('input[name="empathy"][value="4"]').check()
    page.locator('input[name="relevance"][value="5"]').check()
    page.get_by_label("What did you like or dislike about the conversation?").fill("Too short.")
    save_screenshot(page, "surveys-post-chat-supporter-left")
    page.get_by_role("button", name="Submit and finish").click()

    page.wait_for_url("**/done/")
    survey: Any = SeekerPostChatSurvey.objects.get(conversation=pair.conversation)
    assert (survey.ended_naturally, survey.final_emotion_intensity) == (None, 2)
    assert (survey.empathy, survey.relevance, survey.question1) == (4, 5, "Too short.")
    assert refused == []
    context.close()
