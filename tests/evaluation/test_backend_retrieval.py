"""The retrieval backend on a few hand-made conversations: modes, no repeats, sources, cache."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat.dataset.importing import import_esconv_file
from chat.models import Conversation
from crowd import vocabulary
from crowd.models import CollectionRun
from evaluation.backends import (
    BackendError,
    SupporterRequest,
    Turn,
    backend_for,
    request_for_conversation,
)
from evaluation.backends.retrieval import RetrievalBackend, RetrievalIndex
from evaluation.backends.sources import forget_indexes
from evaluation.models import SupporterBackend
from tests.evaluation.factories import add_session, evaluation_run

FIRED = "Being fired is a shock; it makes sense that you feel frightened about money."
LANDLORD = "You could ask your landlord for a payment plan while you look for work."
RESTATE_EXAMS = "So the exams next week keep you awake at night."


def record(problem: str, situation: str, dialog: list[tuple[str, ...]]) -> dict[str, Any]:
    """A conversation of the JSON-lines layout: ("usr", text) and ("sys", text, strategy)."""
    items = [
        {"text": item[1], "speaker": item[0], **({"strategy": item[2]} if len(item) > 2 else {})}
        for item in dialog
    ]
    return {
        "experience_type": "Current Experience",
        "emotion_type": "anxiety",
        "problem_type": problem,
        "situation": situation,
        "survey_score": {"seeker": {"initial_emotion_intensity": "4"}, "supporter": {}},
        "dialog": items,
        "seeker_question1": "",
        "seeker_question2": "",
        "supporter_question1": "",
        "supporter_question2": "",
    }


JOB = record(
    "job crisis",
    "I lost my job.",
    [
        ("sys", "Hi there, what would you like to talk about?", "Question"),
        ("usr", "I was fired from my job and cannot pay the rent"),
        ("sys", FIRED, "Reflection of feelings"),
        ("usr", "What should I do about the rent money?"),
        ("sys", LANDLORD, "Providing Suggestions"),
    ],
)
BREAKUP = record(
    "breakup with partner",
    "My girlfriend left me.",
    [
        ("usr", "My girlfriend broke up with me last night"),
        ("sys", "I am so sorry, a breakup hurts. How long were you together?", "Question"),
        ("usr", "Three years, and now I feel lonely every evening"),
        (
            "sys",
            "Feeling lonely after three years together is understandable.",
            "Affirmation and Reassurance",
        ),
        ("usr", "Thanks for listening to me"),
        ("sys", "I went through a breakup too, and talking about it helped me.", "Self-disclosure"),
    ],
)
EXAMS = record(
    "academic pressure",
    "Exams stress me.",
    [
        ("usr", "My exams are next week and I cannot sleep at night"),
        ("sys", RESTATE_EXAMS, "Restatement or Paraphrasing"),
        ("usr", "Yes, I study all night"),
        ("sys", "Students who rest before exams often remember more.", "Information"),
        ("usr", "ok bye"),
        ("sys", "Take care of yourself!", "Others"),
    ],
)
CONVERSATIONS = [JOB, BREAKUP, EXAMS]


@pytest.fixture(autouse=True)
def _no_cached_index() -> Iterator[None]:
    # Test databases reuse primary keys after a rollback; a real database never does.
    forget_indexes()
    yield
    forget_indexes()


@pytest.fixture(scope="module")
def index() -> RetrievalIndex:
    return RetrievalIndex.from_conversations(CONVERSATIONS)


def seeker_says(
    *texts: str, strategy: str | None = None, conversation: str = ""
) -> SupporterRequest:
    survey = {"situation": "", "experience_type": "", "emotion_type": "", "problem_type": ""}
    turns = tuple(Turn("seeker", text) for text in texts)
    return SupporterRequest(
        survey=survey, dialog=turns, strategy=strategy, conversation=conversation
    )


def test_it_indexes_every_supporter_utterance(index: RetrievalIndex) -> None:
    assert index.size == 9
    assert index.counts["Question"] == 2
    assert sum(index.counts.values()) == 9


def test_joint_picks_the_closest_moment_and_its_strategy(index: RetrievalIndex) -> None:
    backend = RetrievalBackend(index, mode="joint")

    fired = backend.reply(seeker_says("I got fired from my job and I can't pay the rent"))
    exams = backend.reply(seeker_says("my exams are next week, I cannot sleep"))

    assert (fired.strategy, fired.text) == ("Reflection of feelings", FIRED)
    assert (exams.strategy, exams.text) == ("Restatement or Paraphrasing", RESTATE_EXAMS)


def test_joint_opens_by_the_situation_before_the_seeker_speaks(index: RetrievalIndex) -> None:
    request = SupporterRequest(survey={"situation": "I lost my job last month."})
    reply = RetrievalBackend(index).reply(request)
    assert reply.text == "Hi there, what would you like to talk about?"


def test_oracle_searches_only_the_given_strategy(index: RetrievalIndex) -> None:
    backend = RetrievalBackend(index, mode="oracle")
    said = "I got fired from my job and I can't pay the rent"

    assert backend.reply(seeker_says(said, strategy="Providing Suggestions")).text == LANDLORD
    question = backend.reply(seeker_says(said, strategy="Question"))
    assert question.strategy == "Question"


def test_oracle_without_a_strategy_is_a_bad_request(index: RetrievalIndex) -> None:
    with pytest.raises(BackendError) as excinfo:
        RetrievalBackend(index, mode="oracle").reply(seeker_says("Hello"))
    assert excinfo.value.code == "bad_request"
    assert "strategy" in excinfo.value.message


def test_random_draws_reproducibly_from_the_data(index: RetrievalIndex) -> None:
    requests = [seeker_says("I feel bad", conversation=str(n)) for n in range(40)]
    first = [RetrievalBackend(index, mode="random", seed=1).reply(r) for r in requests]
    again = [RetrievalBackend(index, mode="random", seed=1).reply(r) for r in requests]
    other = [RetrievalBackend(index, mode="random", seed=2).reply(r) for r in requests]

    assert first == again
    assert first != other
    drawn = {reply.strategy for reply in first}
    assert len(drawn) >= 4
    assert drawn <= {name for name, count in index.counts.items() if count}
    for reply in first:
        assert index.strategies[index.texts.index(reply.text)] == reply.strategy


def test_it_never_says_a_text_twice_in_a_conversation(index: RetrievalIndex) -> None:
    said = "I got fired from my job and I can't pay the rent"
    dialog = (
        Turn("seeker", said),
        Turn(
            "supporter",
            "  being fired is a shock;  it makes sense that you feel frightened about money. ",
            "Reflection of feelings",
        ),
        Turn("seeker", said),
    )
    request = SupporterRequest(survey={"situation": ""}, dialog=dialog)

    reply = RetrievalBackend(index).reply(request)

    assert reply.text != FIRED
    only = RetrievalIndex.from_conversations([JOB])
    used = tuple(Turn("supporter", t, "Others") for t in only.texts)
    with pytest.raises(BackendError) as excinfo:
        RetrievalBackend(only).reply(SupporterRequest(survey={}, dialog=used))
    assert excinfo.value.code == "no_data"


@pytest.mark.parametrize("sources", [[], [record("job crisis", "Alone.", [("usr", "hello?")])]])
def test_an_empty_index_has_no_data(sources: list[dict[str, Any]]) -> None:
    index = RetrievalIndex.from_conversations(sources)
    for mode in ("joint", "oracle", "random"):
        with pytest.raises(BackendError) as excinfo:
            RetrievalBackend(index, mode=mode).reply(seeker_says("Hi", strategy="Question"))
        assert excinfo.value.code == "no_data"


def test_oracle_with_a_strategy_the_data_lacks_has_no_data() -> None:
    index = RetrievalIndex.from_conversations([EXAMS])
    with pytest.raises(BackendError) as excinfo:
        RetrievalBackend(index, mode="oracle").reply(seeker_says("Hi", strategy="Question"))
    assert excinfo.value.code == "no_data"


# --- from the database -----------------------------------------------------------------------


def import_records(
    tmp_path: Path, records: list[dict[str, Any]], run: str, status: str = "approved"
) -> None:
    path = tmp_path / f"{run}-{status}-{len(records)}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    import_esconv_file(path, status=status, run_name=run)


def retrieval_config(name: str = "retrieval", **fields: Any) -> SupporterBackend:
    return SupporterBackend.objects.create(
        name=name, kind=SupporterBackend.Kind.RETRIEVAL, **fields
    )


@pytest.mark.django_db
def test_it_reads_a_conversation_as_a_request(tmp_path: Path) -> None:
    import_records(tmp_path, [BREAKUP], "source")
    conversation = Conversation.objects.get()

    request = request_for_conversation(conversation.pk)

    assert request.conversation == str(conversation.pk)
    assert request.survey == {
        "experience_type": "Current Experience",
        "emotion_type": "anxiety",
        "problem_type": "breakup with partner",
        "situation": "My girlfriend left me.",
        "initial_emotion_intensity": 4,
    }
    assert [t.speaker for t in request.dialog] == ["seeker", "supporter"] * 3
    assert request.dialog[1].strategy == "Question"
    assert request.dialog[0].text == "My girlfriend broke up with me last night"
    with pytest.raises(BackendError) as excinfo:
        request_for_conversation(conversation.pk + 100)
    assert excinfo.value.code == "bad_request"


@pytest.mark.django_db
def test_it_answers_from_approved_conversations_of_its_run_only(tmp_path: Path) -> None:
    import_records(tmp_path, [JOB], "source")
    import_records(tmp_path, [EXAMS], "source", status="pending")
    import_records(tmp_path, [BREAKUP], "elsewhere")
    evaluation = evaluation_run()
    add_session(evaluation)  # two legs written by backends, which must never be retrieved
    Conversation.objects.filter(evaluation_leg__isnull=False).update(quality_status="approved")

    everything = backend_for(retrieval_config("all-runs"))
    one_run = backend_for(
        retrieval_config("one-run", source_run=CollectionRun.objects.get(name="source"))
    )

    assert isinstance(everything, RetrievalBackend) and isinstance(one_run, RetrievalBackend)
    assert set(everything.index.texts) == set(
        RetrievalIndex.from_conversations([JOB, BREAKUP]).texts
    )
    assert set(one_run.index.texts) == set(RetrievalIndex.from_conversations([JOB]).texts)


@pytest.mark.django_db
def test_it_reuses_the_index_until_the_data_changes(tmp_path: Path) -> None:
    import_records(tmp_path, [JOB], "source")
    config = retrieval_config(mode="oracle")

    first = backend_for(config)
    second = backend_for(config)
    assert isinstance(first, RetrievalBackend) and isinstance(second, RetrievalBackend)
    assert second.index is first.index
    assert second.mode == "oracle"

    import_records(tmp_path, [EXAMS], "source")
    third = backend_for(config)
    assert isinstance(third, RetrievalBackend)
    assert third.index is not first.index
    assert RESTATE_EXAMS in third.index.texts
    reply = third.reply(
        seeker_says("exams next week, cannot sleep", strategy="Restatement or Paraphrasing")
    )
    assert reply.text == RESTATE_EXAMS


@pytest.mark.django_db(transaction=True)
def test_threads_asking_at_once_share_one_index(tmp_path: Path) -> None:
    import_records(tmp_path, CONVERSATIONS, "source")
    config = retrieval_config()
    found: list[Any] = []

    def ask() -> None:
        from django.db import connection

        try:
            found.append(backend_for(config).reply(seeker_says("I was fired from my job")))
            backend = backend_for(config)
            assert isinstance(backend, RetrievalBackend)
            found.append(backend.index)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    indexes = [item for item in found if isinstance(item, RetrievalIndex)]
    assert len(indexes) == 4
    assert all(index is indexes[0] for index in indexes)
    assert [r.strategy for r in found if not isinstance(r, RetrievalIndex)] == [
        "Reflection of feelings"
    ] * 4


def test_vocabulary_strategies_are_the_only_ones(index: RetrievalIndex) -> None:
    assert set(index.counts) == set(vocabulary.STRATEGY_NAMES)


@pytest.mark.django_db
def test_backends_of_the_same_source_share_one_index(tmp_path: Path) -> None:
    import_records(tmp_path, [JOB], "source")
    run = CollectionRun.objects.get(name="source")
    joint = backend_for(retrieval_config("joint"))
    randomly = backend_for(retrieval_config("random", mode="random", seed=4))
    of_run = backend_for(retrieval_config("of-run", source_run=run))

    assert isinstance(joint, RetrievalBackend) and isinstance(randomly, RetrievalBackend)
    assert isinstance(of_run, RetrievalBackend)
    assert randomly.index is joint.index
    assert (randomly.mode, randomly.seed) == ("random", 4)
    assert of_run.index is not joint.index
