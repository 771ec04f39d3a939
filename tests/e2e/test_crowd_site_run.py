"""A run kept as a file, rehearsed, collected on Prolific and on MTurk, settled from the admin.

The lab's pilot is applied from its run file; `simulate_run` rehearses it against the live
server; real workers then take part in Chromium, a pair from Prolific in the pilot and a pair
from MTurk in a second run made from the same file with a new name and site; a member of staff
who may pay signs in, shows the authenticator's code and settles both runs from the admin.
The local servers that speak Prolific's and MTurk's APIs must then hold exactly one approval
and the pay table's bonus for each real worker, and nothing for the simulated ones.

Run it alone: `.venv/bin/pytest tests/e2e/test_crowd_site_run.py -m browser`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, Page, expect

from crowd.models import CollectionRun, Worker
from devtools.server import free_port, start, uvicorn_command
from staff import totp
from staff.models import TOTPDevice
from tests.browser_support import SERVER_START_TIMEOUT, off_the_event_loop, server_environment
from tests.chat.test_browser_chat import _confirmed, choose_strategy, fill_pre_chat_survey
from tests.e2e.test_browser_collection import _fill_seeker_post_chat, _fill_supporter_post_chat
from tests.providers.mturk_server import MTurkServer, aws_credentials, mturk_server  # noqa: F401
from tests.providers.prolific_server import ProlificServer, prolific_server  # noqa: F401
from tests.tutorial.test_browser_tutorial import _walk
from tutorial.models import SubTask

STUDY = "STUDYpilot01"
HIT = "HITpilot01"
# The pay table's bonus of a finished task: base 2.00 × 10 · 1.50 = 30.00 in all, 28.00 on top.
BONUS = Decimal("28.00")
PILOT_FILE = """\
# The run
name: pilot
title: Pilot on Prolific
is_active: true

# Consent
researcher_name: The study team
researcher_contact: team@example.org

# Matching and chat
min_turns_to_end: 1
min_seconds_to_end: 0
feedback_every: 2

# Pay
base_pay: '2.00'
bonus: '1.50'
currency: GBP

# Return to the crowd site
accepts_prolific: true
accepts_mturk: false
accepts_other: false
site_completion_codes:
  '00': C0PILOT
  '01': C1PILOT
  '02': C2PILOT
  '03': C3PILOT
"""
SITUATION = (
    "My contract ends next month and nobody has said whether it will be renewed, so I keep "
    "checking my email at night and cannot sleep."
)


@pytest.fixture
def site_server(
    transactional_db: None,
    prolific_server: ProlificServer,  # noqa: F811
    mturk_server: MTurkServer,  # noqa: F811
    aws_credentials: tuple[str, str],  # noqa: F811
) -> Iterator[str]:
    """The live server, its crowd-site clients pointed at the local servers."""
    port = free_port()
    env = server_environment() | {
        "PROLIFIC_API_URL": prolific_server.url,
        "PROLIFIC_API_TOKEN": prolific_server.token,
        "MTURK_ENDPOINT_URL": mturk_server.url,
        "CROWD_SITE_TIMEOUT_SECONDS": "5",
    }
    server = start(uvicorn_command(port, "--log-level", "warning"), port=port, env=env)
    try:
        server.wait_until_ready("/healthz", timeout=SERVER_START_TIMEOUT)
        yield server.base_url
    finally:
        server.stop()
        connections.close_all()


def _arrive(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("I have read this and agree to take part.").check()
    page.get_by_role("button", name="Continue").click()


def _collect(browser: Browser, base: str, run: str, seeker_link: str, supporter_link: str) -> None:
    """A seeker and a supporter take part from their links, chat, end it and get 03."""
    subtasks = list(SubTask.objects.order_by("order"))
    seeker_context, supporter_context = browser.new_context(), browser.new_context()
    seeker, supporter = seeker_context.new_page(), supporter_context.new_page()
    try:
        _arrive(seeker, f"{base}/start/?role=seeker&run={run}&{seeker_link}")
        seeker.wait_for_url("**/surveys/pre-chat/")
        fill_pre_chat_survey(seeker, SITUATION)
        _arrive(supporter, f"{base}/start/?role=supporter&run={run}&{supporter_link}")
        supporter.wait_for_url("**/tutorial/")
        _walk(supporter, subtasks, wrong_parts=set())
        supporter.get_by_role("button", name="Submit my answers").click()
        supporter.wait_for_url("**/chat/room/", timeout=20_000)
        seeker.wait_for_url("**/chat/room/", timeout=20_000)

        choose_strategy(supporter, "Question")
        supporter.locator("#text").fill("Hello, I am here to listen. What has been on your mind?")
        supporter.get_by_role("button", name="Send", exact=True).click()
        expect(_confirmed(seeker)).to_have_count(1)
        seeker.locator("#text").fill("Mostly my job, and not knowing what happens next month.")
        seeker.locator("#text").press("Enter")
        expect(_confirmed(supporter)).to_have_count(2)
        end = seeker.get_by_role("button", name="End conversation")
        expect(end).to_be_enabled()
        end.click()
        seeker.get_by_role("dialog").get_by_role("button", name="End now").click()

        seeker.wait_for_url("**/surveys/post-chat/")
        supporter.wait_for_url("**/surveys/post-chat/")
        _fill_seeker_post_chat(seeker)
        _fill_supporter_post_chat(supporter)
        for page in (seeker, supporter):
            page.wait_for_url("**/done/")
            expect(page.get_by_test_id("status-code")).to_have_text(re.compile(r"^\s*03\b"))
    finally:
        seeker_context.close()
        supporter_context.close()


def _settle_from_the_admin(page: Page, base: str, run: CollectionRun, payer: User) -> None:
    """Preview, then confirm; the first time, the authenticator's code is asked for."""
    page.goto(f"{base}/admin/crowd/collectionrun/{run.pk}/settle/")
    if "/staff/two-factor/" in page.url:
        expect(
            page.get_by_text("Paying workers needs your authenticator's code first.")
        ).to_be_visible()
        device = TOTPDevice.objects.get(user=payer)  # set up now, as the page shows the key
        page.get_by_label(re.compile("code", re.I)).fill(
            totp.code_at(device.secret, totp.current_step())
        )
        page.locator("form").get_by_role("button").click()
        page.wait_for_url(f"**/collectionrun/{run.pk}/settle/")
    confirm = page.get_by_role("button", name="Confirm: settle on the crowd sites")
    expect(confirm).to_be_visible()
    confirm.click()
    expect(page.get_by_text(f"Settled run {run.name}.")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_run_from_its_file_is_rehearsed_collected_on_both_sites_and_settled_in_the_admin(
    site_server: str,
    browser: Browser,
    prolific_server: ProlificServer,  # noqa: F811
    mturk_server: MTurkServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    call_command("load_tutorial", verbosity=0)
    pilot_file = tmp_path / "pilot.yaml"
    pilot_file.write_text(PILOT_FILE, encoding="utf-8")
    # The second run is the pilot's file with a new name, on MTurk's sandbox.
    main_file = tmp_path / "main.yaml"
    main_file.write_text(
        PILOT_FILE.replace("name: pilot", "name: main")
        .replace("accepts_prolific: true", "accepts_prolific: false")
        .replace("accepts_mturk: false", "accepts_mturk: true\nmturk_sandbox: true"),
        encoding="utf-8",
    )
    out = StringIO()
    call_command("apply_run", str(pilot_file), stdout=out)
    call_command("apply_run", str(main_file), stdout=out)
    assert "created run 'pilot'" in out.getvalue() and "created run 'main'" in out.getvalue()
    pilot, main = CollectionRun.objects.get(name="pilot"), CollectionRun.objects.get(name="main")

    # The rehearsal: a simulated pair walks the pilot's whole journey against the server.
    rehearsal = StringIO()
    # Playwright keeps an event loop in this thread; the command runs its own, as from a shell.
    off_the_event_loop(
        lambda: call_command(
            "simulate_run", "--run", "pilot", "--pairs", "1", "--base-url", site_server,
            "--typing-speed", "10", stdout=rehearsal,
        )
    )  # fmt: skip
    assert "rehearsal of 'pilot' passed: 1 pairs" in rehearsal.getvalue()
    simulated = list(Worker.objects.filter(run=pilot, simulated=True))
    assert len(simulated) == 2

    # Prolific: each participant's submission exists on the site before they arrive.
    prolific_server.add_study(STUDY)
    p_seeker = prolific_server.add_submission(STUDY, "PSEEKER01")
    p_supporter = prolific_server.add_submission(STUDY, "PSUPPORTER01")
    _collect(
        browser, site_server, "pilot",
        f"PROLIFIC_PID=PSEEKER01&STUDY_ID={STUDY}&SESSION_ID={p_seeker}",
        f"PROLIFIC_PID=PSUPPORTER01&STUDY_ID={STUDY}&SESSION_ID={p_supporter}",
    )  # fmt: skip
    # MTurk: the HIT, and the assignments the workers submitted.
    mturk_server.add_hit(HIT)
    _collect(
        browser, site_server, "main",
        f"workerId=AWSEEKER01&assignmentId=ASSIGNSEEK01&hitId={HIT}",
        f"workerId=AWSUPPORTER01&assignmentId=ASSIGNSUPP01&hitId={HIT}",
    )  # fmt: skip
    for assignment, worker_id in (
        ("ASSIGNSEEK01", "AWSEEKER01"),
        ("ASSIGNSUPP01", "AWSUPPORTER01"),
    ):
        mturk_server.add_assignment(HIT, assignment, worker_id)

    # A reviewer who was given the permission to pay settles both runs from the admin.
    payer = User.objects.create_user("vera", password="a long staff password 7", is_staff=True)
    payer.user_permissions.add(
        Permission.objects.get(codename="settle_run"),
        Permission.objects.get(codename="view_collectionrun"),
    )
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{site_server}/admin/login/?next=/admin/")
        page.get_by_label("Username").fill("vera")
        page.get_by_label("Password").fill("a long staff password 7")
        page.get_by_role("button", name=re.compile("log in", re.I)).click()
        page.wait_for_url("**/admin/")
        _settle_from_the_admin(page, site_server, pilot, payer)
        _settle_from_the_admin(page, site_server, main, payer)
    finally:
        context.close()

    # Exactly one approval and the pay table's bonus for each real worker, on each site.
    approvals = [r.path for r in prolific_server.requests if r.path.endswith("/transition/")]
    assert sorted(approvals) == sorted(
        f"submissions/{s}/transition/" for s in (p_seeker, p_supporter)
    )
    for submission, participant in ((p_seeker, "PSEEKER01"), (p_supporter, "PSUPPORTER01")):
        assert prolific_server.status(submission) == "APPROVED"
        assert prolific_server.bonuses_paid(participant) == [BONUS]
    approved = [call["AssignmentId"] for call in mturk_server.calls("ApproveAssignment")]
    assert sorted(approved) == ["ASSIGNSEEK01", "ASSIGNSUPP01"]
    for worker_id in ("AWSEEKER01", "AWSUPPORTER01"):
        assert mturk_server.bonuses(worker_id) == [BONUS]
    # The rehearsal's workers were never sent to a site.
    for worker in simulated:
        assert all(worker.external_id not in str(r) for r in prolific_server.requests)
    real = Worker.objects.filter(simulated=False)
    assert real.count() == 4 and all(w.paid_at is not None for w in real)
    assert all(w.pay_total is not None and w.pay_base is not None for w in real)
    assert {w.pay_total - w.pay_base for w in real if w.pay_total and w.pay_base} == {BONUS}
