"""The report on the released ESConv splits (1,300 dialogues): the headline figures, pinned.

docs/analytics.md sets them beside the paper's Table 2 and Table 3 (the paper describes an
earlier 1,053-dialogue version of the data).
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.esconv, pytest.mark.django_db]


@pytest.fixture(scope="module")
def report(esconv_dir: Path, django_db_blocker: Any) -> dict[str, Any]:
    out = StringIO()
    with django_db_blocker.unblock():
        call_command(
            "esconv_report",
            "--file",
            str(esconv_dir / "hf_release_splits"),
            "--format",
            "json",
            stdout=out,
        )
    return json.loads(out.getvalue())


def test_the_counts_of_the_release(report: dict[str, Any]) -> None:
    assert report["dialogues"] == 1300
    assert report["utterances"] == {"total": 38365, "seeker": 19989, "supporter": 18376}
    assert report["utterances_per_dialogue"]["total"] == pytest.approx(29.51, abs=0.005)
    assert report["words_per_utterance"]["seeker"] == pytest.approx(14.82, abs=0.005)
    assert report["words_per_utterance"]["supporter"] == pytest.approx(18.11, abs=0.005)


def test_the_strategies_of_the_release(report: dict[str, Any]) -> None:
    assert report["strategies"] == {
        "Question": 3801,
        "Restatement or Paraphrasing": 1089,
        "Reflection of feelings": 1436,
        "Self-disclosure": 1713,
        "Affirmation and Reassurance": 2827,
        "Providing Suggestions": 2954,
        "Information": 1215,
        "Others": 3341,
    }


def test_labels_and_intensity_of_the_release(report: dict[str, Any]) -> None:
    assert list(report["problems"])[:3] == [
        "ongoing depression",
        "job crisis",
        "breakup with partner",
    ]
    assert report["problems"]["ongoing depression"] == 351
    assert report["emotions"]["anxiety"] == 354
    assert report["intensity"]["initial_mean"] == pytest.approx(4.06, abs=0.005)
    assert report["intensity"]["final_n"] == 1150
    assert report["intensity"]["final_mean"] == pytest.approx(2.07, abs=0.005)
    # The JSON-lines release carries no feedback.
    assert report["feedback"]["n"] == 0


def test_the_shape_of_the_paper_s_figures(report: dict[str, Any]) -> None:
    by_progress = report["strategy_by_progress"]
    # Figure 4: questions open the conversation, suggestions peak in its middle, and the
    # closing pleasantries ("Others") end it.
    assert by_progress["Question"][0] > 0.6
    assert max(range(6), key=lambda i: by_progress["Providing Suggestions"][i]) == 3
    assert by_progress["Others"][5] > 0.5
    # Table 6: the most frequent 3-hop sequence.
    assert report["transitions"]["3-hop"][0]["sequence"] == ["Others"] * 4
    assert report["transitions"]["3-hop"][0]["count"] == 76
    # Figure 3: first-person words mark self-disclosure; "you could" a suggestion.
    assert [t["term"] for t in report["lexical"]["Self-disclosure"]["unigrams"][:2]] == ["i", "my"]
    assert report["lexical"]["Providing Suggestions"]["bigrams"][0]["term"] == "you could"
