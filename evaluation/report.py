"""The human evaluation's results: the paper's Table 5 (A vs B) and Figure 5 (strategies).

`evaluation_report(run)` returns one JSON-safe dict (its keys are listed in docs/evaluation.md,
"Results"); `render_markdown(report)` prints it as Markdown. What counts where:

- "sessions", "order", "questions": the sessions a seeker finished (`completed_at` set) with a
  `Comparison`, leaving out seekers whose data was deleted at their request (crowd.privacy);
- "strategies": the supporter utterances of every leg of the evaluation, whether or not the
  seeker went on to compare, except withdrawn conversations (they leave every export);
- "replies": every leg, for these are the backends' running counts, not a seeker's data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Field, Q, QuerySet, Sum
from scipy.stats import binomtest

from analytics.dialogues import Dialogue, Turn
from analytics.rendering import progress_table, table
from analytics.report import strategy_progress
from chat.models import Conversation, Utterance
from crowd.models import CollectionRun
from evaluation.models import (
    QUESTIONS,
    A,
    B,
    Comparison,
    Evaluation,
    EvaluationLeg,
    EvaluationSession,
)

SIGNIFICANCE = 0.05
SLOTS = (A, B)
# The report's name for each answer of a Comparison.
ANSWERS = {
    "a_wins": Comparison.Choice.A,
    "b_wins": Comparison.Choice.B,
    "ties": Comparison.Choice.TIE,
}


class ReportError(ValueError):
    """The run cannot have an evaluation report (it is no evaluation run)."""


def sign_test(wins: int, losses: int) -> float | None:
    """Two-sided exact sign test of `wins` against `losses` (ties left out by the caller).

    The p-value of an exact binomial test with p = 0.5; None when there is nothing to test.
    """
    for value in (wins, losses):
        # bool is an int, but True wins is surely a caller's mistake.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"wins and losses are counts (non-negative ints), not {value!r}")
    if wins + losses == 0:
        return None
    return float(binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)


def _evaluation_of(run: CollectionRun) -> Evaluation:
    evaluation = (
        Evaluation.objects.select_related("run", "backend_a", "backend_b").filter(run=run).first()
    )
    if evaluation is None:
        raise ReportError(f"the run {run.name!r} has no evaluation (it is no evaluation run)")
    return evaluation


def _compared(evaluation: Evaluation) -> QuerySet[EvaluationSession]:
    return EvaluationSession.objects.filter(
        evaluation=evaluation,
        completed_at__isnull=False,
        comparison__isnull=False,
        worker__data_deleted_at__isnull=True,
    )


def _question_label(question: str) -> str:
    # The model field's own name for it, so that a verbose_name given there shows here too.
    field = Comparison._meta.get_field(question)
    assert isinstance(field, Field)  # QUESTIONS are Comparison's own columns
    return str(field.verbose_name).capitalize()


def _questions(sessions: QuerySet[EvaluationSession]) -> list[dict[str, Any]]:
    # Fifteen counts in one query: every question by every answer.
    counts = Comparison.objects.filter(session__in=sessions).aggregate(
        **{
            f"{question}__{key}": Count("pk", filter=Q(**{question: choice}))
            for question in QUESTIONS
            for key, choice in ANSWERS.items()
        }
    )
    rows = []
    for question in QUESTIONS:
        row = {key: counts[f"{question}__{key}"] for key in ANSWERS}
        p_value = sign_test(row["a_wins"], row["b_wins"])
        rows.append(
            {
                "question": question,
                "label": _question_label(question),
                **row,
                "p_value": p_value,
                "significant": p_value is not None and p_value < SIGNIFICANCE,
            }
        )
    return rows


def _leg_dialogues(evaluation: Evaluation, slot: str) -> Iterator[Dialogue]:
    """The conversations of one backend's legs as analytics dialogues, utterances in order."""
    conversations = Conversation.objects.filter(
        evaluation_leg__session__evaluation=evaluation,
        evaluation_leg__slot=slot,
        withdrawn_at__isnull=True,
    )
    turns: dict[int, list[Turn]] = defaultdict(list)
    utterances = Utterance.objects.filter(conversation__in=conversations).order_by(
        "conversation_id", "position"
    )
    rows = utterances.values_list("conversation_id", "speaker", "text", "strategy", "feedback")
    for conversation_id, speaker, text, strategy, feedback in rows:
        turns[conversation_id].append((speaker, text, strategy, feedback))
    for conversation in conversations.order_by("pk"):
        yield Dialogue(
            problem=conversation.problem_type,
            emotion=conversation.emotion_type,
            initial_intensity=conversation.initial_emotion_intensity,
            final_intensity=None,
            turns=turns[conversation.pk],
        )


def _strategies(evaluation: Evaluation, slot: str) -> dict[str, Any]:
    progress = strategy_progress(_leg_dialogues(evaluation, slot))
    return {"conversations": progress.pop("dialogues"), **progress}


def _replies(evaluation: Evaluation) -> dict[str, dict[str, int]]:
    totals = {slot: {"legs": 0, "replies": 0, "failures": 0} for slot in SLOTS}
    rows = (
        EvaluationLeg.objects.filter(session__evaluation=evaluation)
        .values("slot")
        .annotate(legs=Count("pk"), replies=Sum("replies"), failures=Sum("failures"))
        .order_by("slot")
    )
    for row in rows:
        totals[row["slot"]] = {key: row[key] for key in ("legs", "replies", "failures")}
    return totals


def evaluation_report(run: CollectionRun) -> dict[str, Any]:
    """The evaluation run's results; ReportError when the run has no evaluation."""
    evaluation = _evaluation_of(run)
    sessions = _compared(evaluation)
    order = sessions.aggregate(
        a_first=Count("pk", filter=Q(first=A)),
        b_first=Count("pk", filter=Q(first=B)),
    )
    return {
        "run": run.name,
        "backend_a": evaluation.backend_a.name,
        "backend_b": evaluation.backend_b.name,
        "sessions": order["a_first"] + order["b_first"],
        "order": order,
        "questions": _questions(sessions),
        "strategies": {slot: _strategies(evaluation, slot) for slot in SLOTS},
        "replies": _replies(evaluation),
    }


def _with_share(count: int, sessions: int) -> str:
    return f"{count} ({100 * count / sessions:.1f} %)" if sessions else str(count)


def format_p(p_value: float | None) -> str:
    """A p-value as the tables print it: four significant digits, a star below 0.05."""
    if p_value is None:
        return "–"
    return f"{p_value:.4g}" + (" *" if p_value < SIGNIFICANCE else "")


def _table5(report: dict[str, Any]) -> list[str]:
    n = report["sessions"]
    header = ["question", f"A wins ({report['backend_a']})", f"B wins ({report['backend_b']})"]
    rows: list[list[Any]] = [
        [
            q["label"],
            _with_share(q["a_wins"], n),
            _with_share(q["b_wins"], n),
            _with_share(q["ties"], n),
            format_p(q["p_value"]),
        ]
        for q in report["questions"]
    ]
    return table([*header, "ties", "p"], rows)


def _figure5(report: dict[str, Any], slot: str) -> list[str]:
    strategies = report["strategies"][slot]
    name = report[f"backend_{slot}"]
    return [
        f"### Backend {slot.upper()} ({name})",
        "",
        f"{strategies['supporter_utterances']:,} supporter utterances in "
        f"{strategies['conversations']:,} conversations.",
        "",
        *progress_table(strategies),
    ]


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: Table 5 (A vs B), then each backend's Figure 5 table."""
    order = report["order"]
    replies = report["replies"]
    lines = [
        f"# Human evaluation of {report['run']}: {report['backend_a']} (A) vs "
        f"{report['backend_b']} (B)",
        "",
        f"Compared sessions: **{report['sessions']:,}** ({order['a_first']:,} met A first, "
        f"{order['b_first']:,} met B first).",
        "",
        "## Which backend was better (Table 5)",
        "",
        *_table5(report),
        "p: two-sided exact sign test of A wins against B wins, ties left out; "
        f"* p < {SIGNIFICANCE}.",
        "",
        "## Strategies by conversation progress (Figure 5)",
        "",
    ]
    for slot in SLOTS:
        lines += _figure5(report, slot)
    lines += ["## Replies", ""]
    lines += table(
        ["backend", "legs", "replies", "failures"],
        [[report[f"backend_{s}"], *replies[s].values()] for s in SLOTS],
    )
    return "\n".join(lines).rstrip() + "\n"
