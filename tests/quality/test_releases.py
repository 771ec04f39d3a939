"""Releases: numbered, dated export files of the approved set, downloadable by staff only."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from chat.models import Conversation
from quality.judging import judge_pending
from quality.models import Release
from quality.releases import write_release
from tests.cast import RITA, account
from tests.quality.factories import make_conversation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exporter")]


def test_it_writes_a_numbered_release_of_the_approved_set(export_dir: Path) -> None:
    make_conversation()
    make_conversation(relevance=3, empathy=2)  # review: not released
    judge_pending()
    release = write_release()
    assert release is not None
    path = Path(release.path)
    assert path.parent == export_dir
    assert path.name.startswith("esconv-release-0001-") and path.suffix == ".json"
    data = json.loads(path.read_text())
    assert release.count == len(data) == 1
    assert release.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data[0]["dialog"][1] == {
        "speaker": "supporter",
        "annotation": {"strategy": "Question"},
        "content": "word word word word word word word word",
    }
    # No temporary file is left behind.
    assert sorted(p.name for p in export_dir.iterdir()) == [path.name]


def test_it_writes_no_new_release_when_nothing_changed(export_dir: Path) -> None:
    make_conversation()
    judge_pending()
    first = write_release()
    assert write_release() is None
    make_conversation()
    judge_pending()
    second = write_release()
    assert first is not None and second is not None
    assert (first.number, second.number) == (1, 2)
    assert (first.count, second.count) == (1, 2)
    assert Release.objects.count() == 2


def test_the_command_judges_and_releases(export_dir: Path) -> None:
    make_conversation()
    out = StringIO()
    call_command("run_quality_control", stdout=out)
    assert "release 1: 1 conversations" in out.getvalue()
    call_command("run_quality_control", stdout=out)
    assert "no new release: the approved set is unchanged" in out.getvalue()


def test_staff_download_a_release_and_outsiders_cannot(
    export_dir: Path, rita_client: Client, otto_client: Client
) -> None:
    make_conversation()
    judge_pending()
    release = write_release()
    assert release is not None
    listing = rita_client.get("/quality/releases/")
    assert release.sha256 in listing.content.decode()
    response = rita_client.get("/quality/releases/1/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == Path(release.path).read_bytes()
    assert "attachment" in response["Content-Disposition"]
    assert Client().get("/quality/releases/1/download/").status_code == 302
    assert otto_client.get("/quality/releases/1/download/").status_code == 302


def test_a_corrected_strategy_is_what_the_release_contains(export_dir: Path) -> None:
    conversation = make_conversation(relevance=3, empathy=2)
    judge_pending()
    rita = account(RITA)
    from quality.corrections import correct_strategy
    from quality.review import claim_for_review, decide_review

    conversation.refresh_from_db()
    claim_for_review(conversation, rita)
    utterance = conversation.utterances.get(position=2)  # the supporter's first line
    correct_strategy(utterance, rita, "Information")
    decide_review(conversation, rita, "approved", "")
    assert Conversation.objects.get(pk=conversation.pk).quality_status == "approved"
    release = write_release()
    assert release is not None
    data = json.loads(Path(release.path).read_text())
    assert data[0]["dialog"][1]["annotation"] == {"strategy": "Information"}
