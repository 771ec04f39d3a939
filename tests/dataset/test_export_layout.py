"""The export writes SPEC section 8 exactly, and nothing personal."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.dataset.exporting import exportable_conversations, write_export_file
from chat.models import Conversation, Utterance
from crowd.models import CollectionRun, Worker
from surveys.models import SeekerPostChatSurvey, SupporterPostChatSurvey
from tests.dataset.helpers import export_file, import_file, raw_record, write_raw

pytestmark = pytest.mark.django_db

TOP_KEYS = [
    "experience_type",
    "emotion_type",
    "problem_type",
    "situation",
    "survey_score",
    "dialog",
    "seeker_question1",
    "seeker_question2",
    "supporter_question1",
    "supporter_question2",
]


def _ordered(text: str) -> Any:
    """Parse JSON keeping key order visible: objects become lists of pairs."""
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


def _live_conversation() -> Conversation:
    """A chat collected on the platform: real workers, an email, a supporter survey."""
    run = CollectionRun.get_default()
    alice = Worker.objects.create(
        run=run, role="seeker", provider="prolific", external_id="alice-prolific-5f3a"
    )
    bob = Worker.objects.create(
        run=run, role="supporter", provider="prolific", external_id="bob-prolific-77c1"
    )
    conversation = Conversation.objects.create(
        run=run,
        seeker=alice,
        supporter=bob,
        experience_type="Current Experience",
        emotion_type="sadness",
        problem_type="breakup with partner",
        situation="My partner left me last week.",
        initial_emotion_intensity=4,
        state=Conversation.State.ENDED,
        end_reason=Conversation.EndReason.FINISHED,
        quality_status=Conversation.QualityStatus.APPROVED,
    )
    Utterance.objects.bulk_create(
        [
            Utterance(conversation=conversation, position=1, speaker="seeker", text="hi"),
            Utterance(
                conversation=conversation,
                position=2,
                speaker="supporter",
                text="Hello there",
                strategy="Question",
            ),
            Utterance(
                conversation=conversation, position=3, speaker="seeker", text="sad", feedback=5
            ),
        ]
    )
    SeekerPostChatSurvey.objects.create(
        conversation=conversation,
        worker=alice,
        final_emotion_intensity=2,
        empathy=5,
        relevance=4,
        question1="kind",
        email="alice@example.org",
    )
    SupporterPostChatSurvey.objects.create(conversation=conversation, worker=bob, seeker_detail=5)
    return conversation


def test_it_writes_keys_in_order_with_string_scores(tmp_path: Path) -> None:
    _live_conversation()
    target = tmp_path / "out.json"

    export_file("--output", str(target))

    [conversation] = _ordered(target.read_text(encoding="utf-8"))
    assert [key for key, _ in conversation] == TOP_KEYS
    survey = dict(conversation)["survey_score"]
    assert survey == [
        (
            "seeker",
            [
                ("initial_emotion_intensity", "4"),
                ("empathy", "5"),
                ("relevance", "4"),
                ("final_emotion_intensity", "2"),
            ],
        ),
        ("supporter", [("relevance", "5")]),
    ]
    assert dict(conversation)["dialog"] == [
        [("speaker", "seeker"), ("annotation", []), ("content", "hi")],
        [
            ("speaker", "supporter"),
            ("annotation", [("strategy", "Question")]),
            ("content", "Hello there"),
        ],
        [("speaker", "seeker"), ("annotation", [("feedback", "5")]), ("content", "sad")],
    ]
    assert dict(conversation)["seeker_question1"] == "kind"
    assert dict(conversation)["supporter_question1"] == ""


def test_it_never_exports_personal_data(tmp_path: Path) -> None:
    conversation = _live_conversation()
    target = tmp_path / "out.json"

    export_file("--output", str(target))
    export_file("--format", "jsonl", "--output", str(tmp_path / "out.jsonl"))

    for text in (target.read_text(), (tmp_path / "out.jsonl").read_text()):
        assert "alice@example.org" not in text
        assert "alice-prolific-5f3a" not in text
        assert "bob-prolific-77c1" not in text
        assert conversation.seeker.completion_code not in text  # type: ignore[union-attr]
        assert "email" not in text


def test_it_leaves_out_scores_never_given(tmp_path: Path) -> None:
    record = raw_record(
        survey_score={"seeker": {"initial_emotion_intensity": "3"}, "supporter": {}},
        seeker_question1="",
        seeker_question2="",
        supporter_question1="",
        supporter_question2="",
    )
    import_file(write_raw(tmp_path / "in.json", [record]))
    target = tmp_path / "out.json"

    export_file("--output", str(target))

    [exported] = json.loads(target.read_text())
    assert exported == record
    assert "null" not in target.read_text()


def test_it_writes_the_jsonl_layout(tmp_path: Path) -> None:
    import_file(write_raw(tmp_path / "in.json", [raw_record(), raw_record(situation="b")]))
    target = tmp_path / "out.jsonl"

    export_file("--format", "jsonl", "--output", str(target))

    text = target.read_text(encoding="utf-8")
    assert not text.endswith("\n")
    first, second = (json.loads(line) for line in text.split("\n"))
    assert list(first) == TOP_KEYS
    assert first["dialog"][2] == {
        "text": "I am here for you.",
        "speaker": "sys",
        "strategy": "Others",
    }
    assert first["dialog"][3] == {
        "text": "I have to deal with many people at work café",
        "speaker": "usr",
    }
    assert "\\u00e9" in text  # non-ASCII escaped, as in the release
    assert second["situation"] == "b"


def test_it_exports_only_what_the_status_asks_and_never_withdrawn(tmp_path: Path) -> None:
    records = [raw_record(situation=name) for name in ("kept", "pending", "withdrawn", "active")]
    import_file(write_raw(tmp_path / "in.json", records))
    by_situation = {c.situation: c for c in Conversation.objects.all()}
    Conversation.objects.filter(pk=by_situation["pending"].pk).update(quality_status="pending")
    Conversation.objects.filter(pk=by_situation["withdrawn"].pk).update(withdrawn_at=timezone.now())
    Conversation.objects.filter(pk=by_situation["active"].pk).update(
        state=Conversation.State.ACTIVE, quality_status="pending"
    )

    export_file("--output", str(tmp_path / "approved.json"))
    export_file("--status", "all", "--output", str(tmp_path / "all.json"))

    approved = [c["situation"] for c in json.loads((tmp_path / "approved.json").read_text())]
    everything = [c["situation"] for c in json.loads((tmp_path / "all.json").read_text())]
    assert approved == ["kept"]
    assert everything == ["kept", "pending"]


def test_it_writes_to_stdout(tmp_path: Path) -> None:
    import_file(write_raw(tmp_path / "in.json", [raw_record()]))
    out = StringIO()

    call_command("export_esconv", "--output", "-", stdout=out, stderr=StringIO())

    assert json.loads(out.getvalue()) == [raw_record()]
    assert out.getvalue() == json.dumps([raw_record()], indent=1)


def test_it_writes_raw_text_exactly_as_the_dataset_files_are_written(tmp_path: Path) -> None:
    awkward = 'emoji 😊, tab\t, quote ", backslash \\, separator \u2028, bell \x07 end\n'
    records = [raw_record(situation=awkward), raw_record(situation="second", dialog=[])]
    records[1]["dialog"] = [{"speaker": "seeker", "annotation": {}, "content": awkward}]
    import_file(write_raw(tmp_path / "in.json", records))
    target = tmp_path / "out.json"

    export_file("--output", str(target))

    assert target.read_text(encoding="utf-8") == json.dumps(records, indent=1)


def test_it_writes_an_empty_array_when_nothing_qualifies(tmp_path: Path) -> None:
    target = tmp_path / "empty.json"

    count = write_export_file(target, exportable_conversations())

    assert count == 0
    assert target.read_text() == "[]"


def test_it_reads_in_chunks_not_one_query_per_conversation(tmp_path: Path) -> None:
    import_file(write_raw(tmp_path / "in.json", [raw_record(situation=str(i)) for i in range(25)]))

    with CaptureQueriesContext(connection) as queries:
        count = write_export_file(tmp_path / "out.json", exportable_conversations(), chunk_size=10)

    assert count == 25
    # Three chunks of two queries (conversations with surveys joined, utterances) and the
    # empty page that ends the loop.
    assert len(queries) <= 2 * 3 + 2
