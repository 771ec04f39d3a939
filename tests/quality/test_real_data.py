"""Quality control on the real ESConv files, imported as pending (read from ESCONV_DATA_DIR).

The counts are pinned so a change of the rules or of the import shows up here. The JSON-lines
release carries no feedback scores, so its 150 conversations without a seeker survey cannot
meet the no-survey rule and go to review.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from crowd.models import CollectionRun
from quality.judging import judge_pending
from quality.models import Decision

pytestmark = [pytest.mark.esconv, pytest.mark.django_db]


def import_pending(path: Path, run: str) -> None:
    call_command("import_esconv", str(path), "--status", "pending", "--run", run, stdout=StringIO())


def test_it_judges_the_failed_conversations_of_the_original_collection(esconv_dir: Path) -> None:
    import_pending(esconv_dir / "thu-coai_repo" / "FailedESConv.json", "failed")
    counts = judge_pending(run=CollectionRun.objects.get(name="failed"))
    print("FailedESConv:", counts.as_dict())
    assert (counts.filtered, counts.approved, counts.review) == (40, 13, 143)
    # Every conversation the filter dropped is too short (the file keeps only finished chats).
    filtered = Decision.objects.filter(outcome="filtered")
    assert all("utterance_count failed" in d.reasons for d in filtered)


def test_it_judges_the_released_1300(esconv_dir: Path) -> None:
    for split in ("train", "valid", "test"):
        import_pending(esconv_dir / "hf_release_splits" / f"{split}.json", "released")
    out = StringIO()
    call_command("run_quality_control", "--run", "released", "--no-release", stdout=out)
    print("released:", out.getvalue())
    assert "judged 1300: filtered=0 approved=1142 review=158" in out.getvalue()
    no_survey = Decision.objects.filter(has_seeker_survey=False)
    assert no_survey.count() == 150
    assert {d.outcome for d in no_survey} == {"review"}
