"""The report's figures, drawn by matplotlib without a display (its Agg and SVG backends).

`figures(report)` gives each figure as (name, matplotlib Figure); `write_figures` saves each as
PNG and SVG; `svg(figure)` is the text the staff page embeds.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: never the interactive backends

from matplotlib.figure import Figure

FORMATS = ("png", "svg")


def _bars(title: str, counts: dict[str, int], xlabel: str) -> Figure:
    figure = Figure(figsize=(7, 0.35 * max(4, len(counts)) + 1))
    axes = figure.subplots()
    names = list(counts)[::-1]
    axes.barh(names, [counts[n] for n in names], color="#4c72b0")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    figure.tight_layout()
    return figure


def _progress(report: dict[str, Any]) -> Figure:
    figure = Figure(figsize=(7, 4.5))
    axes = figure.subplots()
    points = report["progress_points"]
    for strategy, shares in report["strategy_by_progress"].items():
        axes.plot(points, [100 * s for s in shares], marker="o", label=strategy)
    axes.set_title("Strategies by conversation progress")
    axes.set_xlabel("progress (k-th of L utterances: k / L)")
    axes.set_ylabel("share of supporter utterances (%)")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


def _feedback(report: dict[str, Any]) -> Figure:
    figure = Figure(figsize=(5, 3.5))
    axes = figure.subplots()
    means = [m if m is not None else 0.0 for m in report["feedback"]["by_third"]]
    axes.bar(["first", "middle", "last"], means, color="#55a868")
    axes.set_ylim(0, 5)
    axes.set_title(f"Feedback by third (n = {report['feedback']['n']:,})")
    axes.set_ylabel("mean rating (1-5)")
    figure.tight_layout()
    return figure


def figures(report: dict[str, Any]) -> list[tuple[str, Figure]]:
    return [
        ("strategies", _bars("Strategies", report["strategies"], "supporter utterances")),
        ("strategy_by_progress", _progress(report)),
        ("problems", _bars("Problems", report["problems"], "dialogues")),
        ("emotions", _bars("Emotions", report["emotions"], "dialogues")),
        ("feedback", _feedback(report)),
    ]


def write_figures(report: dict[str, Any], directory: Path) -> list[Path]:
    """Save every figure as PNG and SVG in `directory` (created); return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in figures(report):
        for fmt in FORMATS:
            path = directory / f"{name}.{fmt}"
            figure.savefig(path, format=fmt, bbox_inches="tight")
            written.append(path)
    return written


def svg(figure: Figure) -> str:
    """The figure as an SVG document (text), for a page to embed."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()
