"""Safety detection measured on held-out phrasings, and its contract (docs/safety.md).

The phrasings (tests/safety/phrasings.py) are not training data: a test below proves none of
them is in safety/examples.yaml.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from safety import categories
from safety.detection import Hit, detect, detect_many, warm_up
from safety.lexicon import LexiconError, load_lexicon, parse_lexicon
from safety.model import ExamplesError, load_examples, model_for, train, training_set
from safety.text import normalise
from tests.safety.phrasings import HELD_OUT, NAMED, Case

# Floors on the held-out set; docs/safety.md gives the measured figures (precision 1.00,
# recall 0.96 when written).
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.9


def _found(case: Case) -> set[str]:
    speaker, text, _ = case
    return {hit.category for hit in detect(text, speaker)}


def _counts(cases: list[Case]) -> Counter[str]:
    """True positives, false positives and false negatives over category labels."""
    counts: Counter[str] = Counter()
    for case in cases:
        expected, found = case[2], _found(case)
        counts["tp"] += len(found & expected)
        counts["fp"] += len(found - expected)
        counts["fn"] += len(expected - found)
    return counts


@pytest.fixture(scope="module", autouse=True)
def _trained() -> None:
    warm_up()


def test_the_held_out_set_is_large_and_covers_every_category() -> None:
    cases = NAMED + HELD_OUT
    assert len(cases) >= 120
    labels = Counter(c for _, _, expected in cases for c in expected)
    assert set(labels) == set(categories.SEEKER_CATEGORIES + categories.SUPPORTER_CATEGORIES)
    assert all(count >= 5 for count in labels.values()), labels
    assert sum(1 for *_, expected in cases if not expected) >= 25


def test_no_held_out_phrasing_is_a_training_example() -> None:
    data = load_examples()
    trained = {
        normalise(text)
        for group in ("positives", "negatives")
        for texts in data[group].values()
        for text in texts
    }
    assert not [text for _, text, _ in NAMED + HELD_OUT if normalise(text) in trained]
    lexicon_text = normalise(
        (Path(__file__).resolve().parents[2] / "safety" / "lexicon.yaml").read_text(
            encoding="utf-8"
        )
    )
    assert not [text for _, text, _ in NAMED + HELD_OUT if normalise(text) in lexicon_text]


def test_precision_and_recall_on_the_held_out_phrasings_meet_the_floors() -> None:
    counts = _counts(NAMED + HELD_OUT)
    precision = counts["tp"] / (counts["tp"] + counts["fp"])
    recall = counts["tp"] / (counts["tp"] + counts["fn"])
    print(f"held-out precision {precision:.3f} recall {recall:.3f} ({dict(counts)})")
    assert precision >= PRECISION_FLOOR, counts
    assert recall >= RECALL_FLOOR, counts


@pytest.mark.parametrize("category", categories.SEEKER_CATEGORIES + categories.SUPPORTER_CATEGORIES)
def test_every_category_is_caught_most_of_the_time(category: str) -> None:
    cases = [case for case in NAMED + HELD_OUT if category in case[2]]
    caught = sum(1 for case in cases if category in _found(case))
    assert caught / len(cases) >= 0.75, (category, caught, len(cases))


def test_no_near_miss_raises_anything() -> None:
    raised = [(case[1], _found(case)) for case in NAMED + HELD_OUT if not case[2]]
    assert [item for item in raised if item[1]] == []


@pytest.mark.parametrize("case", NAMED, ids=[text for _, text, _ in NAMED])
def test_the_issue_s_named_examples_exactly(case: Case) -> None:
    assert _found(case) == set(case[2])


def test_a_named_indirect_phrasing_reports_the_lexicon_phrase_and_a_high_score() -> None:
    (hit,) = detect("I've been saving up my pills", "seeker")
    assert hit == Hit("suicide_self_harm", 0.95, hit.reason, "saving up my pills")
    assert hit.reason in ("lexicon", "both")


def test_the_model_catches_what_the_lexicon_lacks() -> None:
    # No lexicon pattern covers this wording ("eaten anything for"), the model does.
    (hit,) = detect("I haven't eaten anything for four days now", "seeker")
    assert (hit.category, hit.reason, hit.phrase) == ("medical_danger", "model", None)
    assert categories.THRESHOLDS["medical_danger"] <= hit.score < 0.9


def test_a_figure_of_speech_does_not_hide_a_real_statement_beside_it() -> None:
    text = "this deadline is killing me and honestly I want to kill myself"
    assert [h.category for h in detect(text, "seeker")] == ["suicide_self_harm"]
    assert detect("this deadline is killing me", "seeker") == []


def test_categories_are_kept_apart_by_speaker() -> None:
    assert detect("my husband hits me when he drinks", "supporter") == []
    assert detect("you are such an idiot", "seeker") == []
    assert [h.category for h in detect("you are such an idiot", "supporter")] == ["abusive"]


def test_supporter_kindness_that_shares_words_with_misconduct_is_not_flagged() -> None:
    for text in (
        "It's not your fault",
        "you are not stupid",
        "nobody should tell you it's your fault",
    ):
        assert detect(text, "supporter") == [], text


def test_hits_are_scored_from_zero_to_one_highest_first() -> None:
    hits = detect("I took an overdose last year and I still want to die", "seeker")
    assert {h.category for h in hits} == {"suicide_self_harm", "medical_danger"}
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_detect_many_agrees_with_detect() -> None:
    texts = [text for speaker, text, _ in HELD_OUT if speaker == "seeker"]
    assert detect_many(texts, "seeker") == [detect(text, "seeker") for text in texts]
    assert detect_many([], "seeker") == []


def test_an_unknown_speaker_is_refused() -> None:
    with pytest.raises(ValueError, match="speaker must be seeker or supporter"):
        detect("hello", "staff")


def test_training_is_quick_and_deterministic() -> None:
    texts, labels = training_set(load_examples(), "seeker")
    started = time.perf_counter()
    first = train(texts, labels)
    elapsed = time.perf_counter() - started
    second = train(texts, labels)
    probe = ["i feel like there is no way out", "my phone died", "he hurts me"]
    assert first.probabilities(probe) == second.probabilities(probe)
    assert elapsed < 2.0


def test_the_single_text_path_equals_predict_proba() -> None:
    # The fast path recomputes the pipeline by hand; any drift from sklearn shows here.
    texts = [normalise(text) for _, text, _ in HELD_OUT + NAMED]
    texts += ["", "zzzz qqqq", "i i i i i i want want to die die", "ok."]
    for speaker in ("seeker", "supporter"):
        model = model_for(speaker)
        for text, batch in zip(texts, model.probabilities(texts), strict=True):
            single = model.probability(text)
            assert single.keys() == batch.keys()
            assert all(abs(single[c] - batch[c]) < 1e-9 for c in batch)


def test_per_message_cost_is_well_under_a_millisecond() -> None:
    # Measured at about 0.25 ms CPU a message (docs/safety.md); the bound leaves room for a
    # busy machine while still failing if detect fell back to sklearn's ~1 ms per call.
    warm_up()
    texts = ([text for _, text, _ in HELD_OUT] * 20)[:2000]
    started = time.process_time()
    for text in texts:
        detect(text, "seeker")
    assert (time.process_time() - started) / len(texts) < 0.0008


def test_a_broken_lexicon_is_named() -> None:
    with pytest.raises(LexiconError, match="category x: needs a speaker"):
        parse_lexicon({"categories": {"x": {"patterns": ["a"]}}})
    with pytest.raises(LexiconError, match="bad pattern"):
        parse_lexicon({"categories": {"x": {"speaker": "seeker", "patterns": ["(a"]}}})


def test_missing_examples_are_named() -> None:
    with pytest.raises(ExamplesError, match="no positive examples for suicide_self_harm"):
        training_set({"positives": {}, "negatives": {"seeker": ["hi"]}}, "seeker")


def test_the_shipped_lexicon_has_every_category_and_vetoes() -> None:
    lexicon = load_lexicon(Path(__file__).resolve().parents[2] / "safety" / "lexicon.yaml")
    names = {entry.category for entry in lexicon.categories}
    assert names == set(categories.SEEKER_CATEGORIES + categories.SUPPORTER_CATEGORIES)
    assert lexicon.veto is not None
