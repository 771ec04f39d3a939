"""Quality control leaves the demo run's chats alone: never judged, never released.

Conversations imported into it (a file imported with no run named) are data, not tries of the
platform, and are judged and released as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.models import Conversation
from crowd.models import CollectionRun
from quality.job import run_quality_control
from quality.judging import judge_pending
from quality.releases import ReleaseOutcome, attempt_release
from tests.quality.factories import make_conversation, quality_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exporter")]


def _demo() -> CollectionRun:
    """The demo run, with the quick endings of quality_run: the default while no real run is."""
    demo = CollectionRun.get_default()
    assert demo.is_demo
    # Chats may end at once, and every supporter message asks for a rating (as quality_run).
    CollectionRun.objects.filter(pk=demo.pk).update(
        min_turns_to_end=0, min_seconds_to_end=0, partner_silence_seconds=0, feedback_every=1
    )
    demo.refresh_from_db()
    return demo


def test_the_job_judges_real_chats_and_leaves_the_demo_s_pending(export_dir: Path) -> None:
    tried = make_conversation(run=_demo())
    real = make_conversation(run=quality_run())

    result = run_quality_control()

    tried.refresh_from_db()
    real.refresh_from_db()
    assert tried.quality_status == Conversation.QualityStatus.PENDING
    assert tried.quality_decisions.count() == 0
    assert real.quality_status == Conversation.QualityStatus.APPROVED
    assert result.counts.judged == 1 and result.complete
    assert result.demo_left == 1 and result.as_dict()["demo_left"] == 1
    assert result.release is not None and result.release.count == 1
    # Asked for the demo run alone, the job judges nothing and says what it left.
    only_demo = run_quality_control(run=tried.run, release=False)
    assert only_demo.counts.judged == 0 and only_demo.demo_left == 1


def test_a_release_never_holds_a_demo_chat(export_dir: Path) -> None:
    run = quality_run()
    make_conversation(run=run)
    judge_pending()
    # The run became a demo after its chat was approved (only possible outside the admin,
    # which refuses to make a run with workers a demo): the release still leaves it out.
    CollectionRun.objects.filter(pk=run.pk).update(is_demo=True)
    assert attempt_release().outcome == ReleaseOutcome.EMPTY
    CollectionRun.objects.filter(pk=run.pk).update(is_demo=False)
    assert attempt_release().outcome == ReleaseOutcome.WRITTEN


def test_conversations_imported_into_the_demo_run_are_judged(export_dir: Path) -> None:
    CollectionRun.objects.filter(is_demo=False).delete()
    imported = make_conversation(end_reason=Conversation.EndReason.IMPORTED)
    assert imported.run.is_demo  # a file imported without --run lands in the default run
    result = run_quality_control()
    imported.refresh_from_db()
    assert imported.quality_status == Conversation.QualityStatus.APPROVED
    assert result.demo_left == 0
    assert result.release is not None and result.release.count == 1
