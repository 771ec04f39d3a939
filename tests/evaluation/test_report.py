"""The evaluation report: sign tests, Table 5's counts, Figure 5's strategies, the command."""

from __future__ import annotations

import json
import math
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics.dialogues import Dialogue
from analytics.report import build_report
from chat.models import Conversation
from crowd.models import CollectionRun, Worker
from evaluation.models import QUESTIONS, Evaluation
from evaluation.report import ReportError, evaluation_report, render_markdown, sign_test
from tests.evaluation.factories import add_session, evaluation_run

pytestmark = pytest.mark.django_db


def exact_two_sided(wins: int, losses: int) -> float:
    """The sign test by hand: twice the smaller tail of Binomial(n, 1/2), at most 1."""
    n = wins + losses
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1))
    return min(1.0, 2 * tail / 2**n)


# Sign test


@pytest.mark.parametrize(
    ("wins", "losses", "expected"),
    [
        (10, 0, 2 * 0.5**10),
        (0, 10, 0.001953125),
        (1, 0, 1.0),
        (6, 4, 0.75390625),
        (5, 5, 1.0),
        (15, 5, exact_two_sided(15, 5)),
        (3, 17, exact_two_sided(3, 17)),
    ],
)
def test_it_computes_the_exact_two_sided_sign_test(wins: int, losses: int, expected: float) -> None:
    assert sign_test(wins, losses) == pytest.approx(expected, rel=1e-12)


def test_the_hand_computation_itself_matches_the_known_values() -> None:
    assert exact_two_sided(6, 4) == 0.75390625  # 2 · (1 + 10 + 45 + 120 + 210) / 1024
    assert exact_two_sided(15, 5) == 2 * 21700 / 2**20  # C(20, 0..5) sum to 21700


def test_nothing_to_test_is_none() -> None:
    assert sign_test(0, 0) is None


@pytest.mark.parametrize(("wins", "losses"), [(-1, 3), (3, -1), (1.0, 2), (2, "3"), (True, 0)])
def test_it_refuses_what_is_not_a_count(wins: object, losses: object) -> None:
    with pytest.raises(ValueError, match="non-negative ints"):
        sign_test(wins, losses)  # type: ignore[arg-type]


# Table 5: the counts


@pytest.fixture
def evaluation() -> Evaluation:
    """Four compared sessions (two met A first, two B first), one unfinished, one withdrawn."""
    evaluation = evaluation_run()
    add_session(
        evaluation,
        first="a",
        answers={"fluency": "a", "identification": "a", "comforting": "b", "overall": "a"},
    )
    add_session(evaluation, first="b", answers="a")
    add_session(evaluation, first="b", answers={"fluency": "b", "overall": "b"})
    add_session(evaluation, first="a", answers="tie")
    add_session(evaluation, first="b", answers=None)  # never compared: left out of Table 5
    return evaluation


def _question(report: dict, name: str) -> dict:
    return next(q for q in report["questions"] if q["question"] == name)


def test_it_counts_the_compared_sessions_and_their_order(evaluation: Evaluation) -> None:
    report = evaluation_report(evaluation.run)

    assert report["run"] == "eval-run"
    assert (report["backend_a"], report["backend_b"]) == ("joint-model", "retrieval")
    assert report["sessions"] == 4
    assert report["order"] == {"a_first": 2, "b_first": 2}


def test_it_counts_each_question_s_answers(evaluation: Evaluation) -> None:
    report = evaluation_report(evaluation.run)

    assert [q["question"] for q in report["questions"]] == list(QUESTIONS)
    counts = {q["question"]: (q["a_wins"], q["b_wins"], q["ties"]) for q in report["questions"]}
    assert counts == {
        "fluency": (2, 1, 1),
        "identification": (2, 0, 2),
        "comforting": (1, 1, 2),
        "suggestion": (1, 0, 3),
        "overall": (2, 1, 1),
    }
    assert _question(report, "fluency")["label"] == "Fluency"
    assert _question(report, "identification")["p_value"] == exact_two_sided(2, 0) == 0.5
    assert not any(q["significant"] for q in report["questions"])


def test_a_clear_win_is_significant() -> None:
    evaluation = evaluation_run()
    for i in range(10):
        add_session(evaluation, first="ab"[i % 2], answers={"overall": "b", "fluency": "a"})

    report = evaluation_report(evaluation.run)

    overall = _question(report, "overall")
    assert (overall["a_wins"], overall["b_wins"], overall["ties"]) == (0, 10, 0)
    assert overall["p_value"] == pytest.approx(0.001953125) and overall["significant"] is True
    assert _question(report, "fluency")["significant"] is True
    comforting = _question(report, "comforting")
    assert comforting["p_value"] is None and comforting["significant"] is False


def test_sessions_finished_without_comparison_or_of_deleted_data_are_left_out(
    evaluation: Evaluation,
) -> None:
    compared = add_session(evaluation, first="a", answers="a")
    Worker.objects.filter(pk=compared.worker_id).update(data_deleted_at=timezone.now())
    unfinished = add_session(evaluation, first="a", answers="b")
    type(unfinished).objects.filter(pk=unfinished.pk).update(completed_at=None)

    report = evaluation_report(evaluation.run)

    assert report["sessions"] == 4
    assert _question(report, "fluency")["a_wins"] == 2


def test_an_evaluation_with_no_session_yet_reports_zeros() -> None:
    report = evaluation_report(evaluation_run().run)

    assert report["sessions"] == 0 and report["order"] == {"a_first": 0, "b_first": 0}
    assert all(q["p_value"] is None for q in report["questions"])
    assert report["strategies"]["a"]["conversations"] == 0
    assert report["replies"]["b"] == {"legs": 0, "replies": 0, "failures": 0}


def test_a_run_that_is_no_evaluation_is_an_error() -> None:
    run = CollectionRun.objects.create(name="plain-run")

    with pytest.raises(ReportError, match="plain-run"):
        evaluation_report(run)
    assert issubclass(ReportError, ValueError)


# Figure 5 and the replies


def test_each_backend_s_strategies_by_progress_come_from_its_legs() -> None:
    evaluation = evaluation_run()
    add_session(
        evaluation,
        strategies={"a": ["Question", "Question", "Providing Suggestions"], "b": ["Information"]},
    )
    add_session(evaluation, first="b", answers=None, strategies={"a": [], "b": ["Information"]})

    strategies = evaluation_report(evaluation.run)["strategies"]

    a, b = strategies["a"], strategies["b"]
    assert (a["conversations"], a["supporter_utterances"]) == (2, 3)
    assert (b["conversations"], b["supporter_utterances"]) == (2, 2)
    assert a["progress_points"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    # Six utterances: the supporter's 2nd, 4th and 6th sit nearest 0.4, 0.6 and 1.
    assert a["strategy_by_progress"]["Question"] == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    assert a["strategy_by_progress"]["Providing Suggestions"] == [0, 0, 0, 0, 0, 1.0]
    assert a["strategy_by_progress"]["Information"] == [0.0] * 6
    assert b["strategy_by_progress"]["Information"] == [0, 0, 0, 0, 0, 1.0]
    assert a["strategies"]["Question"] == 2 and b["strategies"]["Information"] == 2


def test_the_strategy_table_is_figure_4_s_over_the_same_utterances() -> None:
    evaluation = evaluation_run()
    lines = ["Question", "Reflection of feelings", "Self-disclosure", "Others", "Information"]
    add_session(evaluation, strategies={"a": lines})
    turns: list = []
    for i, strategy in enumerate(lines, start=1):
        turns += [("seeker", f"seeker line {i}", None, None)]
        turns += [("supporter", f"backend reply {i}", strategy, None)]
    dialogue = Dialogue("job crisis", "anxiety", 4, None, turns)

    figure4 = build_report([dialogue])
    a = evaluation_report(evaluation.run)["strategies"]["a"]

    assert a["strategy_by_progress"] == figure4["strategy_by_progress"]
    assert a["strategies"] == figure4["strategies"]


def test_withdrawn_conversations_leave_the_strategies() -> None:
    evaluation = evaluation_run()
    session = add_session(evaluation, strategies={"a": ["Question"] * 4})
    add_session(evaluation, strategies={"a": ["Others"]})
    withdrawn = session.legs.get(slot="a").conversation_id
    Conversation.objects.filter(pk=withdrawn).update(withdrawn_at=timezone.now())

    a = evaluation_report(evaluation.run)["strategies"]["a"]

    assert (a["conversations"], a["supporter_utterances"]) == (1, 1)
    assert a["strategies"]["Question"] == 0


def test_replies_and_failures_count_every_leg(evaluation: Evaluation) -> None:
    add_session(evaluation, answers=None, replies={"a": 2, "b": 5}, failures={"a": 3})

    replies = evaluation_report(evaluation.run)["replies"]

    # Five sessions of three replies each, then the unfinished one above.
    assert replies == {
        "a": {"legs": 6, "replies": 17, "failures": 3},
        "b": {"legs": 6, "replies": 20, "failures": 0},
    }


# Markdown


def test_the_markdown_has_table_5_and_a_strategy_table_per_backend(
    evaluation: Evaluation,
) -> None:
    text = render_markdown(evaluation_report(evaluation.run))

    assert "| question | A wins (joint-model) | B wins (retrieval) | ties | p |" in text
    assert "| Fluency | 2 (50.0 %) | 1 (25.0 %) | 1 (25.0 %) | 1 |" in text
    assert "| Identification | 2 (50.0 %) | 0 (0.0 %) | 2 (50.0 %) | 0.5 |" in text
    assert "### Backend A (joint-model)" in text and "### Backend B (retrieval)" in text
    assert text.count("| strategy | 0.0 | 0.2 | 0.4 | 0.6 | 0.8 | 1.0 |") == 2
    assert "Compared sessions: **4** (2 met A first, 2 met B first)." in text


def test_a_significant_p_is_starred() -> None:
    evaluation = evaluation_run()
    for _ in range(10):
        add_session(evaluation, answers={"overall": "a"})

    text = render_markdown(evaluation_report(evaluation.run))

    assert "| Overall | 10 (100.0 %) | 0 (0.0 %) | 0 (0.0 %) | 0.001953 * |" in text


# The command


def _command(*args: str) -> str:
    out = StringIO()
    call_command("evaluation_report", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_json_layout(evaluation: Evaluation) -> None:
    report = json.loads(_command("--run", "eval-run", "--format", "json"))

    assert list(report) == [
        "run",
        "backend_a",
        "backend_b",
        "sessions",
        "order",
        "questions",
        "strategies",
        "replies",
    ]
    assert list(report["order"]) == ["a_first", "b_first"]
    assert list(report["questions"][0]) == [
        "question",
        "label",
        "a_wins",
        "b_wins",
        "ties",
        "p_value",
        "significant",
    ]
    assert list(report["strategies"]) == ["a", "b"]
    assert list(report["strategies"]["a"]) == [
        "conversations",
        "supporter_utterances",
        "strategies",
        "progress_points",
        "strategy_by_progress",
    ]
    assert list(report["replies"]["b"]) == ["legs", "replies", "failures"]
    assert report == evaluation_report(evaluation.run)


def test_the_command_prints_markdown_by_default(evaluation: Evaluation) -> None:
    text = _command("--run", "eval-run")

    assert text.startswith("# Human evaluation of eval-run")
    assert text == render_markdown(evaluation_report(evaluation.run))


def test_the_command_names_an_unknown_run() -> None:
    out = StringIO()
    with pytest.raises(CommandError, match="'nowhere'"):
        call_command("evaluation_report", "--run", "nowhere", stdout=out)
    assert out.getvalue() == ""


def test_the_command_names_a_run_without_evaluation() -> None:
    CollectionRun.objects.create(name="plain-run")
    out = StringIO()
    with pytest.raises(CommandError, match="'plain-run' has no evaluation"):
        call_command("evaluation_report", "--run", "plain-run", stdout=out)
    assert out.getvalue() == ""
