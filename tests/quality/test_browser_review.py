"""Two reviewers in real Chromium: one holds the conversation, the other sees it and waits."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from chat.models import Conversation, Utterance
from quality.judging import judge_pending
from quality.models import Correction, Review
from tests.browser_support import save_screenshot
from tests.cast import RITA, VERA, Actor, account
from tests.quality.factories import make_conversation


def log_in(page: Page, base: str, reviewer: Actor) -> None:
    page.goto(f"{base}/admin/login/?next=/quality/review/")
    page.fill("#id_username", reviewer.name)
    page.fill("#id_password", reviewer.password)
    page.click("input[type=submit]")
    page.wait_for_url("**/quality/review/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewer_claims_corrects_and_rejects_while_another_waits(
    asgi_server: str, page: Page, browser: Browser
) -> None:
    for reviewer in (RITA, VERA):
        account(reviewer)
    conversation = make_conversation(relevance=3, empathy=2)
    judge_pending()

    log_in(page, asgi_server, RITA)
    expect(page.get_by_test_id("review-queue")).to_contain_text("relevance failed")
    page.get_by_role("link", name=f"#{conversation.pk}").click()
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("claim-state")).to_contain_text("You hold this conversation")

    vera_context = browser.new_context()
    vera = vera_context.new_page()
    log_in(vera, asgi_server, VERA)
    vera.goto(f"{asgi_server}/quality/review/{conversation.pk}/")
    expect(vera.get_by_test_id("claim-state")).to_contain_text("rita is reviewing")
    expect(vera.get_by_role("button", name="Reject")).to_have_count(0)
    vera_context.close()

    # Message 2 is the supporter's first (the seeker wrote message 1).
    page.get_by_label("Strategy for message 2", exact=True).select_option("Information")
    page.locator("li.supporter").first.get_by_role("button", name="Correct").click()
    expect(page.locator(".messages")).to_contain_text("Strategy of message 2 corrected")

    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".messages")).to_contain_text("a reason is required to reject")
    page.get_by_label("Reason (required to reject)").fill("the supporter ignored the seeker")
    save_screenshot(page, "quality-review-detail")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".messages")).to_contain_text(f"Conversation #{conversation.pk} rejected")

    assert Conversation.objects.get(pk=conversation.pk).quality_status == "rejected"
    assert Review.objects.get().reason == "the supporter ignored the seeker"
    assert Utterance.objects.get(conversation=conversation, position=2).strategy == "Information"
    assert Correction.objects.get().corrected_by.username == "rita"
