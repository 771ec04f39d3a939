"""The report's statistics on dialogues small enough to compute by hand (docs/analytics.md)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from analytics import lexical
from analytics.dialogues import Dialogue
from analytics.report import build_report

SEEKER, SUPPORTER = "seeker", "supporter"


def _dialogue(turns: list[tuple[str, str, str | None, int | None]], **kwargs: object) -> Dialogue:
    fields: dict[str, object] = {
        "problem": "job crisis",
        "emotion": "anxiety",
        "initial_intensity": 4,
        "final_intensity": 2,
    }
    fields.update(kwargs)
    return Dialogue(turns=turns, **fields)  # type: ignore[arg-type]


# Ten utterances: seeker, supporter alternating; strategies Q Q A S Q; feedback on utterance 5.
TEN = [
    (SEEKER, "one two", None, None),
    (SUPPORTER, "a b c", "Question", None),
    (SEEKER, "x", None, None),
    (SUPPORTER, "d e f g", "Question", None),
    (SEEKER, "y", None, 4),
    (SUPPORTER, "h", "Affirmation and Reassurance", None),
    (SEEKER, "z", None, None),
    (SUPPORTER, "i j", "Self-disclosure", None),
    (SEEKER, "w", None, 2),
    (SUPPORTER, "k", "Question", None),
]


def test_it_counts_utterances_and_words_per_role_and_averages_them() -> None:
    report = build_report([_dialogue(TEN), _dialogue(TEN[:4], problem="breakup with partner")])

    assert report["dialogues"] == 2
    assert report["utterances"] == {"total": 14, "seeker": 7, "supporter": 7}
    assert report["utterances_per_dialogue"] == {"total": 7.0, "seeker": 3.5, "supporter": 3.5}
    seeker_words = 2 + 1 + 1 + 1 + 1 + (2 + 1)
    supporter_words = 3 + 4 + 1 + 2 + 1 + (3 + 4)
    assert report["words_per_utterance"]["seeker"] == pytest.approx(seeker_words / 7)
    assert report["words_per_utterance"]["supporter"] == pytest.approx(supporter_words / 7)
    assert report["words_per_utterance"]["total"] == pytest.approx(
        (seeker_words + supporter_words) / 14
    )
    assert report["problems"] == {"job crisis": 1, "breakup with partner": 1}
    assert isinstance(report["utterances"]["total"], int)
    assert isinstance(report["utterances_per_dialogue"]["total"], float)


def test_it_lists_every_strategy_of_the_vocabulary_with_its_count() -> None:
    report = build_report([_dialogue(TEN)])

    assert report["strategies"]["Question"] == 3
    assert report["strategies"]["Affirmation and Reassurance"] == 1
    assert report["strategies"]["Information"] == 0
    assert len(report["strategies"]) == 8


def test_intensity_leaves_out_conversations_without_a_value() -> None:
    report = build_report(
        [_dialogue(TEN), _dialogue(TEN, initial_intensity=5, final_intensity=None)]
    )

    assert report["intensity"] == {
        "initial_mean": 4.5,
        "initial_n": 2,
        "final_mean": 2.0,
        "final_n": 1,
    }


def test_feedback_is_averaged_overall_and_by_third_of_the_conversation() -> None:
    # Ratings at utterances 5 (progress 0.5: middle) and 9 (0.9: last).
    report = build_report([_dialogue(TEN)])

    assert report["feedback"] == {"n": 2, "mean": 3.0, "by_third": [None, 4.0, 2.0]}


def test_a_collection_without_ratings_has_no_feedback_means() -> None:
    report = build_report([_dialogue([(SEEKER, "hi", None, None)])])

    assert report["feedback"] == {"n": 0, "mean": None, "by_third": [None, None, None]}


def test_strategies_count_at_the_nearest_progress_point() -> None:
    # Supporter utterances at k = 2, 4, 6, 8, 10 of 10: progress 0.2, 0.4, 0.6, 0.8, 1.0.
    report = build_report([_dialogue(TEN)])

    assert report["progress_points"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    by_progress = report["strategy_by_progress"]
    assert by_progress["Question"] == [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    assert by_progress["Affirmation and Reassurance"] == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert by_progress["Self-disclosure"][4] == 1.0
    # At each point where the supporter spoke, the shares sum to 1.
    for i in range(1, 6):
        assert sum(shares[i] for shares in by_progress.values()) == pytest.approx(1.0)


def test_halfway_between_two_points_counts_at_the_later_one() -> None:
    # k = 1 of 10 is progress 0.1, exactly between 0 and 0.2.
    turns = [(SUPPORTER, "w", "Information", None)] + [(SEEKER, "w", None, None)] * 9

    report = build_report([_dialogue(turns)])

    assert report["strategy_by_progress"]["Information"] == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]


def test_sequences_are_consecutive_supporter_strategies_across_seeker_turns() -> None:
    report = build_report([_dialogue(TEN), _dialogue(TEN)])

    three, four = report["transitions"]["3-hop"], report["transitions"]["4-hop"]
    # Q Q A S Q: two 3-hop windows per dialogue, one 4-hop window.
    assert three[0] == {
        "sequence": ["Question", "Affirmation and Reassurance", "Self-disclosure", "Question"],
        "count": 2,
        "share": 0.5,
    }
    assert three[1]["sequence"] == [
        "Question",
        "Question",
        "Affirmation and Reassurance",
        "Self-disclosure",
    ]
    assert four == [
        {
            "sequence": [
                "Question",
                "Question",
                "Affirmation and Reassurance",
                "Self-disclosure",
                "Question",
            ],
            "count": 2,
            "share": 1.0,
        }
    ]


def test_only_the_five_most_frequent_sequences_are_kept() -> None:
    strategies = ["Question", "Information", "Others", "Self-disclosure"]
    rng = random.Random(1)
    turns = [(SUPPORTER, "w", rng.choice(strategies), None) for _ in range(60)]

    report = build_report([_dialogue(turns)])

    counts = [t["count"] for t in report["transitions"]["3-hop"]]
    assert len(counts) == 5 and counts == sorted(counts, reverse=True)
    # One word everywhere: the word is the whole corpus, so it has no odds to rank.
    assert report["lexical"]["Question"] == {"unigrams": [], "bigrams": []}


def _hand_log_odds(mine: Counter[str], rest: Counter[str], term: str) -> tuple[float, float]:
    prior = mine + rest
    a0 = sum(prior.values())
    y_i, y_j, a_w = mine[term], rest[term], prior[term]
    n_i, n_j = sum(mine.values()), sum(rest.values())
    delta = math.log((y_i + a_w) / (n_i + a0 - y_i - a_w)) - math.log(
        (y_j + a_w) / (n_j + a0 - y_j - a_w)
    )
    return delta, delta / math.sqrt(1 / (y_i + a_w) + 1 / (y_j + a_w))


def test_log_odds_with_the_corpus_as_prior_match_the_formula_by_hand() -> None:
    questions = Counter({"what": 6, "you": 4, "feel": 2})
    comfort = Counter({"you": 5, "okay": 4, "feel": 3})

    result = lexical.log_odds({"Question": questions, "Comfort": comfort})

    top = result["Question"][0]
    delta, z = _hand_log_odds(questions, comfort, "what")
    assert top["term"] == "what"
    assert top["log_odds"] == pytest.approx(delta)
    assert top["z"] == pytest.approx(z)
    # A term the strategy never uses is never one of its markers.
    assert "okay" not in [t["term"] for t in result["Question"]]
    assert result["Comfort"][0]["term"] == "okay"


def test_bigrams_are_adjacent_tokens_of_one_utterance() -> None:
    lexicon = lexical.Lexicon()
    lexicon.add("Question", "How are you? How do you feel")
    lexicon.add("Others", "you feel")

    assert lexicon.bigrams["Question"]["how are"] == 1
    assert lexicon.bigrams["Question"]["you how"] == 1
    assert lexicon.bigrams["Question"]["you feel"] == 1
    assert lexicon.unigrams["Question"]["how"] == 2
