"""The export writes the layout of docs/dataset.md exactly, and nothing personal."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.dataset.exporting import exportable_conversations, write_export_file
from chat.dataset.layouts import SEEKER_SCORE_KEYS, TOP_LEVEL_KEYS
from chat.models import Conversation
from crowd.privacy import delete_personal_data
from quality.judging import judge_pending
from tests.cast import ALICE, BOB, CAROL, DAVE
from tests.chat.factories import end, make_pair, post_chat_surveys, rate, say
from tests.crowd.factories import quick_run
from tests.dataset.helpers import (
    assert_raw_layout,
    bare_record,
    export_file,
    import_file,
    raw_record,
    write_raw,
)
from tests.quality.factories import make_conversation

# 25 words: inside the run's 20-80.
BREAKUP = (
    "My partner left me last week after four years together, and I keep going over what I "
    "could have done differently to make it work."
)

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dataset.md"


def _ordered(text: str) -> Any:
    """Parse JSON keeping key order visible: objects become lists of pairs."""
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


def _documented_example() -> dict[str, Any]:
    """The example record of docs/dataset.md's raw layout section."""
    section = DOCS.read_text(encoding="utf-8").split("## The raw layout", 1)[1]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    record = json.loads(example)
    assert isinstance(record, dict)
    return record


def test_the_layout_s_key_order_is_the_documented_one() -> None:
    example = _documented_example()

    assert list(example) == list(TOP_LEVEL_KEYS)
    assert list(example["survey_score"]["seeker"]) == list(SEEKER_SCORE_KEYS)
    assert_raw_layout(example)


def _live_conversation() -> Conversation:
    """A chat collected on the platform: Alice and Bob, an email, a supporter survey.

    Alice rated Bob's line 5, so her next line carries the feedback. Three lines are too short
    for the rules ever to approve, so the exports below ask for every ended conversation.
    """
    pair = make_pair(
        quick_run(feedback_every=1),
        pre_chat={
            "emotion_type": "sadness",
            "problem_type": "breakup with partner",
            "situation": BREAKUP,
        },
    )
    say(pair, pair.seeker, "hi")
    say(pair, pair.supporter, "Hello there", strategy="Question")
    rate(pair, pair.seeker, 5)
    say(pair, pair.seeker, "sad")
    end(pair, pair.seeker, "finished")
    post_chat_surveys(
        pair,
        seeker={
            "final_emotion_intensity": 2,
            "empathy": 5,
            "relevance": 4,
            "question1": "kind",
            "email": "alice@example.org",
        },
        supporter={"seeker_detail": 5, "question1": ""},
    )
    return pair.conversation


def test_it_writes_keys_in_order_with_string_scores(tmp_path: Path) -> None:
    _live_conversation()
    target = tmp_path / "out.json"

    export_file("--status", "all", "--output", str(target))

    [conversation] = _ordered(target.read_text(encoding="utf-8"))
    assert [key for key, _ in conversation] == list(TOP_LEVEL_KEYS)
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

    export_file("--status", "all", "--output", str(target))
    export_file("--status", "all", "--format", "jsonl", "--output", str(tmp_path / "out.jsonl"))

    workers = [conversation.seeker, conversation.supporter]
    for text in (target.read_text(), (tmp_path / "out.jsonl").read_text()):
        assert BREAKUP in text  # the conversation is there
        assert "alice@example.org" not in text
        for worker in workers:
            assert worker is not None
            for value in (worker.external_id, worker.study_id, worker.assignment_id):
                assert value and value not in text
        assert conversation.seeker.completion_code not in text  # type: ignore[union-attr]
        assert "email" not in text


def test_it_leaves_out_scores_never_given(tmp_path: Path) -> None:
    record = bare_record()
    import_file(write_raw(tmp_path / "in.json", [record]))
    target = tmp_path / "out.json"

    export_file("--output", str(target))

    [exported] = json.loads(target.read_text())
    assert exported == record
    assert_raw_layout(exported)
    assert "null" not in target.read_text()


def test_it_writes_the_jsonl_layout(tmp_path: Path) -> None:
    import_file(write_raw(tmp_path / "in.json", [raw_record(), raw_record(situation="b")]))
    target = tmp_path / "out.jsonl"

    export_file("--format", "jsonl", "--output", str(target))

    text = target.read_text(encoding="utf-8")
    assert not text.endswith("\n")
    first, second = (json.loads(line) for line in text.split("\n"))
    assert list(first) == list(TOP_LEVEL_KEYS)
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
    # Alice and Bob's chat, approved by the rules; then Alice asked for her data to be deleted.
    withdrawn = make_conversation(seeker=ALICE, supporter=BOB)
    judge_pending()
    withdrawn.refresh_from_db()
    assert withdrawn.quality_status == "approved" and withdrawn.seeker is not None
    delete_personal_data(withdrawn.seeker)
    # Carol and Dave are still chatting (pending, not ended).
    make_conversation(seeker=CAROL, supporter=DAVE, state="active", end_reason="")
    import_file(write_raw(tmp_path / "in.json", [raw_record(situation="kept")]))
    pending = write_raw(tmp_path / "pending.json", [raw_record(situation="pending")])
    import_file(pending, "--status", "pending")

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
    awkward = 'emoji 😊, tab\t, quote ", backslash \\, separator \u2028, joiner \u200d end\n'
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
