"""The report as Markdown: the paper's tables, one section each (docs/analytics.md)."""

from __future__ import annotations

from typing import Any


def _number(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table's lines, numbers formatted as everywhere in the report, then a blank."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_number(c) if not isinstance(c, str) else c for c in row) + " |"
              for row in rows]  # fmt: skip
    return [*lines, ""]


def _shares(counts: dict[str, int]) -> list[list[Any]]:
    total = sum(counts.values())
    return [[name, count, f"{100 * count / total:.1f} %" if total else "–"]
            for name, count in counts.items()]  # fmt: skip


def _overview(report: dict[str, Any]) -> list[str]:
    rows = [
        ["utterances", *(report["utterances"][k] for k in ("total", "seeker", "supporter"))],
        ["utterances per dialogue",
         *(report["utterances_per_dialogue"][k] for k in ("total", "seeker", "supporter"))],
        ["words per utterance",
         *(report["words_per_utterance"][k] for k in ("total", "seeker", "supporter"))],
    ]  # fmt: skip
    intensity = report["intensity"]
    return [
        f"Dialogues: **{report['dialogues']:,}**",
        "",
        *table(["", "total", "seeker", "supporter"], rows),
        "## Emotion intensity and feedback",
        "",
        *table(
            ["measure", "mean", "n"],
            [
                ["initial intensity", intensity["initial_mean"], intensity["initial_n"]],
                ["final intensity", intensity["final_mean"], intensity["final_n"]],
                ["feedback", report["feedback"]["mean"], report["feedback"]["n"]],
            ],
        ),
        "Feedback by third of the conversation: "
        + " / ".join(_number(v) for v in report["feedback"]["by_third"]),
        "",
    ]


def progress_table(report: dict[str, Any]) -> list[str]:
    """The strategy-by-progress table's lines (also evaluation.report's Figure 5 tables)."""
    points = [f"{p:.1f}" for p in report["progress_points"]]
    rows = [[name, *(f"{100 * v:.1f} %" for v in shares)]
            for name, shares in report["strategy_by_progress"].items()]  # fmt: skip
    return table(["strategy", *points], rows)


def _progress(report: dict[str, Any]) -> list[str]:
    return ["## Strategies by conversation progress", "", *progress_table(report)]


def _transitions(report: dict[str, Any]) -> list[str]:
    lines = ["## Strategy sequences", ""]
    for hops, top in report["transitions"].items():
        rows = [[" → ".join(t["sequence"]), t["count"], f"{100 * t['share']:.2f} %"] for t in top]
        lines += [f"### {hops}", "", *table(["sequence", "count", "share"], rows)]
    return lines


def _lexical(report: dict[str, Any]) -> list[str]:
    lines = ["## Words that mark each strategy (log-odds, z-score)", ""]
    rows = []
    for strategy, terms in report["lexical"].items():
        unigrams = ", ".join(f"{t['term']} ({t['z']:.1f})" for t in terms["unigrams"][:5])
        bigrams = ", ".join(f"{t['term']} ({t['z']:.1f})" for t in terms["bigrams"][:5])
        rows.append([strategy, unigrams or "–", bigrams or "–"])
    return lines + table(["strategy", "unigrams", "bigrams"], rows)


def to_markdown(report: dict[str, Any], title: str = "ESConv report") -> str:
    lines = [f"# {title}", "", *_overview(report)]
    lines += [
        "## Strategies",
        "",
        *table(["strategy", "count", "share"], _shares(report["strategies"])),
    ]
    lines += [
        "## Problems",
        "",
        *table(["problem", "count", "share"], _shares(report["problems"])),
    ]
    lines += [
        "## Emotions",
        "",
        *table(["emotion", "count", "share"], _shares(report["emotions"])),
    ]
    lines += [*_progress(report), *_transitions(report), *_lexical(report)]
    return "\n".join(lines).rstrip() + "\n"
