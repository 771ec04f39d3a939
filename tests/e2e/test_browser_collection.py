"""One whole collection, end to end, through the real pages, a real worker and the export.

Alice, a help-seeker (Prolific link, phone), and Bob, a supporter (MTurk link, desktop), the cast
of tests/cast.py, arrive and consent; Bob passes the tutorial quiz, Alice fills the pre-chat
survey; they are matched, chat ten turns with strategies and feedback, Alice ends it, both fill
their post-chat surveys and see status 03 with a completion code. A real Celery worker process
then judges the conversation and writes a release; the release file and `export_esconv` must
hold exactly the conversation that was typed, in the ESConv layout of docs/dataset.md, and no
personal data.

Run it alone (it needs Chromium and Redis; under CI=true their absence is a failure):
`TEST_REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/pytest tests/e2e -m browser`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun, Worker
from crowd.services import completion_code_for
from esc_platform.celery import app as celery_app
from quality.models import Decision, Release
from quality.rule_sets import current_rule_set, save_rule_set_version
from quality.tasks import run_quality_control
from tests.browser_support import save_screenshot
from tests.celery_support import CeleryWorker
from tests.chat.test_browser_chat import _confirmed, _rate, fill_pre_chat_survey
from tests.dataset.helpers import assert_raw_layout
from tests.tutorial.test_browser_tutorial import _walk
from tutorial.models import SubTask

RUN_NAME = "e2e-collection"
# Crowd-site ids and the email: personal data that must never reach a dataset file.
SEEKER_PID = "PPIDseeker7c41e9"
SEEKER_STUDY = "STUDYe2e5521"
SEEKER_SESSION = "SESSe2e88310"
SUPPORTER_WORKER_ID = "A3MTURKSUPP9Q2"
# The Prolific study's completion code for each status (the run maps them).
PROLIFIC_CODES = {"00": "C0E2EFAIL", "01": "C1E2ELEFT", "02": "C2E2EPART", "03": "C3E2EDONE"}
SUPPORTER_ASSIGNMENT = "ASSIGNe2e40172"
SUPPORTER_HIT = "HITe2e61f0d"
SEEKER_EMAIL = "alice.e2e.seeker@example.org"
PERSONAL_DATA = [
    SEEKER_PID,
    SEEKER_STUDY,
    SEEKER_SESSION,
    SUPPORTER_WORKER_ID,
    SUPPORTER_ASSIGNMENT,
    SUPPORTER_HIT,
    SEEKER_EMAIL,
]

SITUATION = (
    "My manager told me on Friday that my whole team will be cut at the end of next month, "
    "and I keep lying awake wondering how I will pay the rent and what to tell my parents."
)
# Every seeker line has at least 6 words and every supporter line at least 8, so the
# auto-approval rules pass on length. The first line keeps a trailing newline, as typed.
SEEKER_LINES = [
    "Hello, I could really use someone to talk to.\n",
    "I just found out that my job is going away.",
    "Yes, the whole team, and I have worked there six years.",
    "Mostly scared, and a bit ashamed that I did not see it coming.",
    "That helps a little, thank you for telling me that.",
    "I have not told my parents yet, they will worry so much.",
    "Updating my CV sounds doable, I could start this weekend.",
    "I did not know the job centre could help with that too.",
    "Thanks, it is good to just say all of this out loud.",
    "I think I will call my sister tonight and tell her first.",
    "Thank you, I feel calmer now than when we started talking.",
]
SUPPORTER_LINES = [
    ("Question", "Hi there, I am here for you. What has been on your mind today?"),
    (
        "Restatement or Paraphrasing",
        "So your position at work is being cut, and that came as news to you recently.",
    ),
    ("Reflection of feelings", "It sounds like you feel frightened and also a bit let down by it."),
    ("Self-disclosure", "I was laid off once too, and I remember how lost I felt for weeks."),
    (
        "Affirmation and Reassurance",
        "Six years of work shows real commitment, and nobody could have predicted this cut.",
    ),
    (
        "Providing Suggestions",
        "Maybe you could start by refreshing your CV, one small section at a time.",
    ),
    (
        "Information",
        "Many job centres offer free interview coaching and help with CVs for people in your spot.",
    ),
    ("Others", "Of course, I am really glad that you decided to talk about it here today."),
    ("Question", "Is there someone close to you that you would feel safe telling first?"),
    (
        "Affirmation and Reassurance",
        "That sounds like a brave and sensible first step, you are handling this really well.",
    ),
]
# Ratings given after supporter messages 2, 4, 6, 8 and 10 (feedback_every=2).
FEEDBACK_SCORES = [3, 4, 4, 5, 5]
SEEKER_QUESTION1 = "My partner listened closely and never rushed me."
SEEKER_QUESTION2 = "Maybe a short summary at the end of the chat."
SUPPORTER_QUESTION1 = "The seeker explained the situation openly and clearly."
SUPPORTER_QUESTION2 = ""


def _arrive(page: Page, url: str) -> None:
    """Open an entry link and give consent on the real consent page."""
    page.goto(url)
    page.get_by_label("I have read this and agree to take part.").check()
    page.get_by_role("button", name="Continue").click()


def _expected_conversation() -> dict[str, Any]:
    """The conversation as docs/dataset.md says it must be exported, built from what was typed."""
    dialog: list[dict[str, Any]] = []
    scores = iter(FEEDBACK_SCORES)
    for turn, (strategy, text) in enumerate(SUPPORTER_LINES):
        # The rating of the prompt after supporter message 2k sits on the next seeker item.
        feedback = {"feedback": str(next(scores))} if turn >= 2 and turn % 2 == 0 else {}
        dialog.append({"speaker": "seeker", "annotation": feedback, "content": SEEKER_LINES[turn]})
        dialog.append(
            {"speaker": "supporter", "annotation": {"strategy": strategy}, "content": text}
        )
    dialog.append(
        {
            "speaker": "seeker",
            "annotation": {"feedback": str(next(scores))},
            "content": SEEKER_LINES[-1],
        }
    )
    return {
        "experience_type": "Current Experience",
        "emotion_type": "anxiety",
        "problem_type": "job crisis",
        "situation": SITUATION,
        "survey_score": {
            "seeker": {
                "initial_emotion_intensity": "4",
                "empathy": "5",
                "relevance": "5",
                "final_emotion_intensity": "2",
            },
            "supporter": {"relevance": "4"},
        },
        "dialog": dialog,
        "seeker_question1": SEEKER_QUESTION1,
        "seeker_question2": SEEKER_QUESTION2,
        "supporter_question1": SUPPORTER_QUESTION1,
        "supporter_question2": SUPPORTER_QUESTION2,
    }


def _assert_exported_as_typed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for secret in PERSONAL_DATA:
        assert secret not in text, f"{secret!r} leaked into {path.name}"
    data = json.loads(text)
    assert data == [_expected_conversation()]
    # Order matters to the layout, and dict equality ignores it.
    assert_raw_layout(data[0])


def _chat(seeker: Page, supporter: Page) -> None:
    """Ten turns: the seeker writes, the supporter picks a strategy and answers; ratings."""
    send = supporter.get_by_role("button", name="Send", exact=True)
    sent = 0
    scores = iter(FEEDBACK_SCORES)
    for turn, (strategy, text) in enumerate(SUPPORTER_LINES):
        seeker.locator("#text").fill(SEEKER_LINES[turn])
        seeker.locator("#text").press("Enter")
        sent += 1
        expect(_confirmed(supporter)).to_have_count(sent)

        supporter.get_by_role("radio", name=strategy, exact=True).check()
        supporter.locator("#text").fill(text)
        expect(send).to_be_enabled()
        send.click()
        sent += 1
        expect(_confirmed(seeker)).to_have_count(sent)
        if turn % 2 == 1:
            _rate(seeker, next(scores))
    seeker.locator("#text").fill(SEEKER_LINES[-1])
    seeker.locator("#text").press("Enter")
    sent += 1
    expect(_confirmed(supporter)).to_have_count(sent)
    expect(seeker.get_by_test_id("turns")).to_have_text("10")


def _fill_seeker_post_chat(seeker: Page) -> None:
    seeker.locator('input[name="ended_naturally"][value="yes"]').check()
    seeker.locator('input[name="final_emotion_intensity"][value="2"]').check()
    seeker.locator('input[name="empathy"][value="5"]').check()
    seeker.locator('input[name="relevance"][value="5"]').check()
    seeker.locator("#id_question1").fill(SEEKER_QUESTION1)
    seeker.locator("#id_question2").fill(SEEKER_QUESTION2)
    seeker.locator("#id_email").fill(SEEKER_EMAIL)
    seeker.get_by_role("button", name="Submit and finish").click()


def _fill_supporter_post_chat(supporter: Page) -> None:
    supporter.locator('input[name="seeker_detail"][value="4"]').check()
    supporter.locator("#id_question1").fill(SUPPORTER_QUESTION1)
    supporter.get_by_role("button", name="Submit and finish").click()


def _expect_final_page(page: Page, worker: Worker) -> None:
    """Status 03, the code, and the way home to the site the worker came from."""
    page.wait_for_url("**/done/")
    expect(page.get_by_test_id("status-code")).to_have_text(re.compile(r"^\s*03\b"))
    worker.refresh_from_db()
    code = completion_code_for(worker)
    assert code
    expect(page.get_by_test_id("completion-code")).to_have_text(code)
    if worker.provider == Worker.Provider.PROLIFIC:
        assert code == PROLIFIC_CODES["03"], "Prolific knows only the study's own codes"
        expect(page.get_by_test_id("completion-link")).to_have_attribute(
            "href", f"https://app.prolific.com/submissions/complete?cc={code}"
        )
    else:
        form = page.locator('form[action="https://workersandbox.mturk.com/mturk/externalSubmit"]')
        expect(form.locator('input[name="assignmentId"]')).to_have_value(SUPPORTER_ASSIGNMENT)
        expect(page.get_by_test_id("completion-link")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.celery_worker
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_collects_a_conversation_from_entry_links_to_the_released_file(
    asgi_server: str, browser: Browser, celery_worker_process: CeleryWorker, tmp_path: Path
) -> None:
    call_command("load_tutorial", verbosity=0)
    subtasks = list(SubTask.objects.order_by("order"))
    run = CollectionRun.objects.create(
        name=RUN_NAME,
        min_seconds_to_end=0,
        min_turns_to_end=10,
        feedback_every=2,
        site_completion_codes=PROLIFIC_CODES,
    )
    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    supporter = desktop.new_page()
    seeker = phone.new_page()
    try:
        # 1 + 3. The seeker arrives from Prolific, consents, fills the pre-chat survey and waits.
        _arrive(
            seeker,
            f"{asgi_server}/start/?role=seeker&PROLIFIC_PID={SEEKER_PID}"
            f"&STUDY_ID={SEEKER_STUDY}&SESSION_ID={SEEKER_SESSION}&run={RUN_NAME}",
        )
        seeker.wait_for_url("**/surveys/pre-chat/")
        fill_pre_chat_survey(seeker, SITUATION)
        seeker.wait_for_url("**/chat/waiting/")
        expect(seeker.get_by_role("heading", name="Finding you a chat partner…")).to_be_visible()

        # 1 + 2. The supporter arrives from MTurk, consents and passes the quiz on the pages.
        _arrive(
            supporter,
            f"{asgi_server}/start/?role=supporter&workerId={SUPPORTER_WORKER_ID}"
            f"&assignmentId={SUPPORTER_ASSIGNMENT}&hitId={SUPPORTER_HIT}&run={RUN_NAME}"
            "&turkSubmitTo=https%3A%2F%2Fworkersandbox.mturk.com",
        )
        supporter.wait_for_url("**/tutorial/")
        _walk(supporter, subtasks, wrong_parts=set())
        supporter.get_by_role("button", name="Submit my answers").click()

        # Both waiting pages poll the matcher; each lands in the room.
        supporter.wait_for_url("**/chat/room/", timeout=20_000)
        seeker.wait_for_url("**/chat/room/", timeout=20_000)
        expect(supporter.locator("#conn")).to_have_text("live")
        expect(seeker.locator("#conn")).to_have_text("live")
        alice = Worker.objects.get(run=run, external_id=SEEKER_PID)
        bob = Worker.objects.get(run=run, external_id=SUPPORTER_WORKER_ID)
        assert (alice.provider, bob.provider) == (Worker.Provider.PROLIFIC, Worker.Provider.MTURK)
        assert bob.qualification == Worker.Qualification.QUALIFIED

        # 4. Ten turns, then the seeker ends the conversation.
        _chat(seeker, supporter)
        end = seeker.get_by_role("button", name="End conversation")
        expect(end).to_be_enabled()
        end.click()
        seeker.get_by_role("dialog").get_by_role("button", name="End now").click()

        # 5. Both post-chat surveys through the pages, then the final page with 03.
        seeker.wait_for_url("**/surveys/post-chat/")
        supporter.wait_for_url("**/surveys/post-chat/")
        _fill_seeker_post_chat(seeker)
        _fill_supporter_post_chat(supporter)
        _expect_final_page(seeker, alice)
        _expect_final_page(supporter, bob)
        save_screenshot(seeker, "e2e-seeker-done")
        save_screenshot(supporter, "e2e-supporter-done")
    finally:
        desktop.close()
        phone.close()

    conversation = Conversation.objects.get(seeker=alice, supporter=bob)
    assert (conversation.end_reason, conversation.quality_status) == ("finished", "pending")
    assert (alice.status_code, bob.status_code) == ("03", "03")

    # The test's workers fill the box in one go, far faster than a person types, so their
    # messages are flagged authenticity_too_fast (tests/authenticity covers how messages are
    # written). This lab's rule set lets those flags inform reviewers without holding
    # approval back, a choice every run may make.
    rules = current_rule_set()
    rules.pk, rules.authenticity_blocking = None, []
    save_rule_set_version(rules)

    # 6. A real worker process judges it: the task goes through Redis, never eagerly.
    assert celery_app.conf.task_always_eager is False
    sent = run_quality_control.delay(run_name=RUN_NAME)
    celery_worker_process.wait_for(
        lambda: (
            Conversation.objects.filter(pk=conversation.pk, quality_status="pending").count() == 0
        ),
        timeout=60,
    )
    conversation.refresh_from_db()
    decision = Decision.objects.filter(conversation=conversation).first()
    assert conversation.quality_status == "approved", decision and (
        decision.reasons,
        decision.criteria,
    )
    assert decision is not None and "flag: authenticity_too_fast" in decision.reasons
    celery_worker_process.wait_for(lambda: Release.objects.exists(), timeout=60)
    assert f"[{sent.id}] received" in celery_worker_process.log()
    release = Release.objects.get()
    release_path = Path(release.path)
    assert release_path.parent == Path(celery_worker_process.env["ESCONV_EXPORT_DIR"])
    assert release.count == 1
    _assert_exported_as_typed(release_path)

    # 7. The data user's command writes the same conversation object.
    exported = tmp_path / "esconv.json"
    call_command("export_esconv", "--output", str(exported), "--run", RUN_NAME)
    _assert_exported_as_typed(exported)
    assert json.loads(exported.read_text()) == json.loads(release_path.read_text())
    # The vocabulary's spellings are the ones in the file.
    assert {s for s, _ in SUPPORTER_LINES} == set(vocabulary.STRATEGY_NAMES)
