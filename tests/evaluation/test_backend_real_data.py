"""The retrieval backend over the released ESConv data (never copied into the repository)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chat.dataset.reading import read_files
from crowd import vocabulary
from evaluation.backends import SupporterRequest, Turn
from evaluation.backends.retrieval import RetrievalBackend, RetrievalIndex

pytestmark = pytest.mark.esconv


@pytest.fixture(scope="module")
def released(esconv_dir: Path) -> tuple[RetrievalIndex, list[dict[str, object]]]:
    splits = esconv_dir / "hf_release_splits"
    index = RetrievalIndex.from_conversations(
        read_files([splits / "train.json", splits / "valid.json"])
    )
    test = [json.loads(line) for line in (splits / "test.json").read_text("utf-8").split("\n")]
    return index, test


def test_it_answers_the_test_split_with_valid_replies(
    released: tuple[RetrievalIndex, list[dict[str, object]]],
) -> None:
    index, test = released
    draw = random.Random(7)
    assert index.size > 14_000
    for mode in ("joint", "oracle", "random"):
        backend = RetrievalBackend(index, mode=mode, seed=3)
        for record in draw.sample(test, 20):
            dialog = record["dialog"]
            assert isinstance(dialog, list)
            request = SupporterRequest.from_jsonl_record(record, upto=draw.randrange(len(dialog)))
            if mode == "oracle":
                request = request.with_strategy(draw.choice(vocabulary.STRATEGY_NAMES))
            reply = backend.reply(request)
            assert reply.strategy in vocabulary.STRATEGY_NAMES
            assert 0 < len(reply.text) <= 2000
            if mode == "oracle":
                assert reply.strategy == request.strategy
            said = {t.text for t in request.dialog if t.speaker == "supporter"}
            assert reply.text not in said


def test_joint_finds_a_supporter_who_talked_about_the_same_thing(
    released: tuple[RetrievalIndex, list[dict[str, object]]],
) -> None:
    index, _ = released
    dialog = (
        Turn("supporter", "Hello, how are you today?", "Question"),
        Turn("seeker", "I lost my job last week and I am worried about paying my rent"),
    )
    request = SupporterRequest(survey={"situation": "I lost my job."}, dialog=dialog)

    reply = RetrievalBackend(index).reply(request)

    assert "job" in reply.text.lower()
