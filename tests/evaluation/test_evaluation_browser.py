"""In Chromium, a whole evaluation: a seeker on a phone chats with the built-in retrieval and
with the reference HTTP model server (in the order drawn for her), compares the two, leaves
with her code, and the staff report counts her answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from evaluation.models import Comparison, Evaluation, EvaluationLeg, SupporterBackend
from tests.a11y import axe_context, run_axe
from tests.browser_support import save_screenshot
from tests.cast import ALICE, RITA, account
from tests.chat.sockets import login_cookie
from tests.crowd.factories import enter, make_run, session_key
from tests.evaluation.factories import reference_server, retrieval_source
from tests.surveys.factories import submit_pre_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TURNS = 2


@pytest.fixture
def reference_url() -> Iterator[str]:
    with reference_server() as url:
        yield url


def _evaluation(url: str) -> Evaluation:
    source = retrieval_source(("Question", "Reflection of feelings", "Providing Suggestions"))
    http = SupporterBackend.objects.create(name="reference", kind="http", url=url)
    retrieval = SupporterBackend.objects.create(
        name="retrieval", kind="retrieval", source_run=source
    )
    return Evaluation.objects.create(
        run=make_run(name="eval-browser"),
        backend_a=retrieval,
        backend_b=http,
        turns=TURNS,
        typing_chars_per_second=200,
        max_reply_seconds=0.5,
    )


def _chat(page: Page, leg: int) -> None:
    expect(page.locator("#conn")).to_have_text("live", timeout=15_000)
    replies = page.get_by_test_id("messages").locator(".msg.from-supporter")
    for turn in range(TURNS):
        page.locator("#text").fill(f"Chat {leg}, turn {turn}: I keep worrying about my exams.")
        page.locator("#send").click()
        expect(replies).to_have_count(turn + 1, timeout=10_000)
    page.locator("#ended-next").click(timeout=10_000)


def test_a_seeker_evaluates_two_backends_and_the_report_counts_it(
    asgi_server: str, browser: Browser, reference_url: str
) -> None:
    evaluation = _evaluation(reference_url)
    worker = enter(ALICE, evaluation.run)
    submit_pre_chat(worker)
    context = axe_context(browser, viewport=PHONE)
    context.add_cookies([{"name": "sessionid", "value": session_key(worker), "url": asgi_server}])
    page = context.new_page()

    page.goto(asgi_server + "/chat/room/")
    expect(page.get_by_test_id("chat-number")).to_have_text("Conversation 1 of 2.")
    _chat(page, 1)
    expect(page).to_have_url(f"{asgi_server}/chat/room/")
    expect(page.get_by_test_id("chat-number")).to_contain_text("2 of 2, with a different")
    _chat(page, 2)
    expect(page).to_have_url(f"{asgi_server}/evaluate/compare/")
    save_screenshot(page, "evaluation-compare-phone")
    violations = run_axe(page, "evaluation-compare")
    assert not violations, "\n".join(v.describe() for v in violations)

    # Submitting with one question unanswered names it and keeps the others.
    page.get_by_label("The first conversation").first.check()
    page.get_by_role("button", name="Submit and finish").click()
    expect(page.locator("#error-summary")).to_contain_text("Please choose one answer")
    groups = page.locator("fieldset.survey-q")
    for n, answer in enumerate(("The first", "The first", "The second", "Both", "The first")):
        groups.nth(n).get_by_label(answer).check()
    page.get_by_role("button", name="Submit and finish").click()
    expect(page).to_have_url(f"{asgi_server}/done/")
    context.close()

    first = EvaluationLeg.objects.get(session__worker=worker, order=1)
    comparison = Comparison.objects.get(session__worker=worker)
    assert comparison.fluency == first.slot and comparison.suggestion == "tie"
    assert EvaluationLeg.objects.filter(session__worker=worker, replies=TURNS).count() == 2

    # Staff see it on the results page, and in its JSON.
    staff_context = axe_context(browser, viewport={"width": 1280, "height": 900})
    session = login_cookie(account(RITA)).split("=", 1)[1]
    staff_context.add_cookies([{"name": "sessionid", "value": session, "url": asgi_server}])
    results = staff_context.new_page()
    results.goto(asgi_server + "/evaluation/eval-browser/")
    expect(results.get_by_text("1 seeker compared the two")).to_be_visible()
    save_screenshot(results, "evaluation-results")
    violations = run_axe(results, "evaluation-results")
    assert not violations, "\n".join(v.describe() for v in violations)
    staff_context.close()
    staff = Client()
    staff.force_login(account(RITA))
    report = staff.get("/evaluation/eval-browser/report.json").json()
    overall = next(q for q in report["questions"] if q["question"] == "overall")
    won = "a_wins" if first.slot == "a" else "b_wins"
    assert report["sessions"] == 1 and overall[won] == 1
    assert report["replies"]["a"]["replies"] == TURNS == report["replies"]["b"]["replies"]
