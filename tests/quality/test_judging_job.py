"""The judging job: claims, re-runs, re-judging, the command, and set-based queries."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Conversation
from quality.judging import judge_pending
from quality.models import Decision, JudgingClaim, Review
from quality.review import claim_for_review, decide_review
from quality.rule_sets import current_rule_set, save_rule_set_version
from tests.cast import RITA, account
from tests.quality.factories import make_conversation, quality_run

pytestmark = pytest.mark.django_db


def test_it_is_safe_to_run_twice() -> None:
    make_conversation()
    make_conversation(utterances=4, seeker_words=[6, 6], supporter_words=[8, 8])
    first = judge_pending()
    second = judge_pending()
    assert (first.approved, first.filtered, first.review) == (1, 1, 0)
    assert second.judged == 0
    assert Decision.objects.count() == 2
    assert not JudgingClaim.objects.exists()


def test_it_skips_a_conversation_another_job_holds() -> None:
    held = make_conversation()
    free = make_conversation()
    JudgingClaim.objects.create(conversation=held, token="other-job", claimed_at=timezone.now())
    counts = judge_pending()
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.quality_status, free.quality_status) == ("pending", "approved")
    assert counts.skipped == 1
    # The other job's claim is its own to release.
    assert JudgingClaim.objects.filter(token="other-job").exists()


def test_it_takes_over_a_claim_left_by_a_dead_job() -> None:
    stale = make_conversation()
    JudgingClaim.objects.create(
        conversation=stale, token="dead-job", claimed_at=timezone.now() - timedelta(hours=1)
    )
    judge_pending()
    stale.refresh_from_db()
    assert stale.quality_status == "approved"
    assert not JudgingClaim.objects.exists()


def test_it_does_not_judge_a_conversation_twice_when_another_job_finished_it() -> None:
    # A second job listed the id while it was pending, but the first job judged it meanwhile:
    # only the status that job wrote matters here (its decision is its own).
    conversation = make_conversation()
    Conversation.objects.filter(pk=conversation.pk).update(quality_status="approved")
    counts = judge_pending()
    assert counts.judged == 0
    assert not Decision.objects.filter(conversation=conversation).exists()


def test_it_queries_per_chunk_not_per_utterance() -> None:
    current_rule_set()  # created on first use; not part of the comparison
    for _ in range(3):
        make_conversation()
    with CaptureQueriesContext(connection) as small:
        judge_pending()
    for _ in range(40):
        make_conversation(utterances=30, seeker_words=6, supporter_words=8)
    with CaptureQueriesContext(connection) as large:
        judge_pending()
    assert Decision.objects.count() == 43
    assert len(large.captured_queries) == len(small.captured_queries)


def test_it_judges_in_several_chunks() -> None:
    for _ in range(7):
        make_conversation()
    counts = judge_pending(chunk_size=3)
    assert counts.approved == 7


def test_rejudge_applies_a_new_rule_set_but_keeps_reviewer_decisions() -> None:
    auto = make_conversation()
    reviewed = make_conversation(relevance=3, empathy=2)
    judge_pending()
    reviewed.refresh_from_db()
    assert reviewed.quality_status == "review"
    # Rita, a reviewer, approves it through the review queue.
    rita = account(RITA)
    claim_for_review(reviewed, rita)
    decide_review(reviewed, rita, "approved", "fine")
    assert Review.objects.get(conversation=reviewed).reviewer == rita

    rules = current_rule_set()
    rules.min_utterances = 20
    save_rule_set_version(rules)
    counts = judge_pending(rejudge=True)
    auto.refresh_from_db()
    reviewed.refresh_from_db()
    assert counts.filtered == 1
    assert auto.quality_status == "filtered"
    assert reviewed.quality_status == "approved"
    assert list(
        Decision.objects.filter(conversation=auto).values_list("rule_set_version", flat=True)
    ) == [2, 1]


def test_the_command_prints_counts() -> None:
    make_conversation()
    make_conversation(relevance=3, empathy=2)
    make_conversation(end_reason="seeker_left")
    out = StringIO()
    call_command("run_quality_control", "--no-release", stdout=out)
    assert "judged 3: filtered=1 approved=1 review=1" in out.getvalue()
    assert "totals: pending=0 filtered=1 review=1 approved=1 rejected=0" in out.getvalue()


def test_the_command_limits_to_a_run() -> None:
    mine = make_conversation()  # in the quality tests' own run
    theirs = make_conversation(run=quality_run("pilot"))
    out = StringIO()
    call_command("run_quality_control", "--run", "pilot", "--no-release", stdout=out)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.quality_status, theirs.quality_status) == ("pending", "approved")


def test_the_command_refuses_an_unknown_run() -> None:
    with pytest.raises(CommandError, match="no collection run named 'nope'"):
        call_command("run_quality_control", "--run", "nope", "--no-release")


def test_celery_beat_runs_the_job_every_configured_interval() -> None:
    import os
    import subprocess
    import sys

    from esc_platform.celery import app
    from quality.tasks import run_quality_control

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='esc_platform.settings'; "
        "django.setup(); from esc_platform.celery import app; "
        "print(app.conf.beat_schedule['quality-control'])"
    )
    env = {**os.environ, "QUALITY_CONTROL_INTERVAL_SECONDS": "90"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "'task': 'quality.run_quality_control', 'schedule': 90.0" in out
    assert run_quality_control.name in app.tasks
    assert run_quality_control.name == "quality.run_quality_control"
