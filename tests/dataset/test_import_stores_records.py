"""What an import writes: fields as in the file, surveys only when the file has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.models import Conversation
from crowd.models import CollectionRun
from tests.dataset.helpers import bare_record, import_file, raw_record, snapshot, write_raw

pytestmark = pytest.mark.django_db


def test_it_stores_a_raw_record_as_typed(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "one.json", [raw_record()])

    out = import_file(path, "--run", "pilot")

    assert "(raw): imported 1, skipped 0" in out
    conversation = Conversation.objects.get()
    assert conversation.run.name == "pilot"
    assert not conversation.run.is_active  # never offered to new workers
    assert conversation.seeker_id is None and conversation.supporter_id is None
    assert conversation.state == Conversation.State.ENDED
    assert conversation.end_reason == Conversation.EndReason.IMPORTED
    assert conversation.quality_status == Conversation.QualityStatus.APPROVED
    assert conversation.source_format == "raw"
    assert conversation.source_fingerprint and len(conversation.source_fingerprint) == 64
    assert conversation.initial_emotion_intensity == 5
    rows = list(
        conversation.utterances.order_by("position").values_list(
            "position", "speaker", "text", "strategy", "feedback"
        )
    )
    assert rows == [
        (1, "seeker", "Hello\n", None, None),
        (2, "supporter", "Hello, what would you like to talk about?", "Question", None),
        (3, "supporter", "I am  here   for you.", "Others", None),
        (4, "seeker", "I have to deal with many people at work café\n", None, 4),
        (5, "supporter", "That sounds exhausting.", "Reflection of feelings", None),
    ]
    seeker_survey = conversation.seeker_survey  # type: ignore[attr-defined]
    assert (seeker_survey.empathy, seeker_survey.relevance) == (5, 4)
    assert seeker_survey.final_emotion_intensity == 2
    assert seeker_survey.question1 == "Partner was very supportive"
    assert seeker_survey.email == ""
    supporter_survey = conversation.supporter_survey  # type: ignore[attr-defined]
    assert supporter_survey.seeker_detail == 3
    assert supporter_survey.question2 == "Nothing"


def test_it_creates_no_survey_the_file_does_not_have(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "bare.json", [bare_record()])

    import_file(path, "--status", "pending")

    counts = snapshot()
    assert counts["conversations"] == 1
    assert counts["seeker_surveys"] == 0
    assert counts["supporter_surveys"] == 0
    conversation = Conversation.objects.get()
    assert conversation.quality_status == Conversation.QualityStatus.PENDING
    assert conversation.run == CollectionRun.get_default()


def test_it_accepts_what_the_released_data_contains(tmp_path: Path) -> None:
    record = raw_record(
        problem_type="Procrastination",
        emotion_type="some emotion beyond the lists",
        survey_score={
            "seeker": {"initial_emotion_intensity": "2"},
            "supporter": {"relevance": "0"},
        },
    )
    path = write_raw(tmp_path / "release-like.json", [record])

    import_file(path)

    conversation = Conversation.objects.get()
    assert conversation.supporter_survey.seeker_detail == 0  # type: ignore[attr-defined]
    assert conversation.emotion_type == "some emotion beyond the lists"


def test_it_stores_a_record_repeated_in_one_file_once(tmp_path: Path) -> None:
    path = write_raw(
        tmp_path / "twice.json", [raw_record(), raw_record(), raw_record(situation="b")]
    )

    out = import_file(path)

    assert "imported 2, skipped 1" in out
    assert Conversation.objects.count() == 2


def test_it_maps_legacy_labels(tmp_path: Path) -> None:
    record = raw_record(
        dialog=[
            {"speaker": "speaker", "annotation": {}, "content": "hi\n"},
            {"speaker": "listener", "annotation": {"strategy": "Questions"}, "content": "Why?"},
            {"speaker": "listener", "annotation": {"strategy": "Question"}, "content": "How?"},
            {"speaker": "listener", "annotation": {"strategy": "Direct Guidance"}, "content": "Go"},
            {"speaker": "speaker", "annotation": {"feedback": "2"}, "content": "ok"},
        ]
    )
    for key in (
        "seeker_question1",
        "seeker_question2",
        "supporter_question1",
        "supporter_question2",
    ):
        del record[key]
    path = write_raw(tmp_path / "legacy.json", [record])

    out = import_file(path)  # detected

    assert "(legacy)" in out
    conversation = Conversation.objects.get()
    assert list(
        conversation.utterances.order_by("position").values_list("speaker", "strategy")
    ) == [
        ("seeker", None),
        ("supporter", "Question"),
        ("supporter", "Question"),
        ("supporter", "Providing Suggestions"),
        ("seeker", None),
    ]
    assert conversation.source_format == "legacy"
