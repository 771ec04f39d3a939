"""The report: the ESConv paper's statistics over any stream of dialogues, in one pass.

`build_report(dialogues)` returns one JSON-safe dict (its keys are listed in docs/analytics.md).
Dialogues are read once, one at a time, and only counters are kept, so memory grows with the
vocabulary, not with the number of conversations. Definitions:

- words of an utterance: its whitespace-split tokens;
- progress of the k-th of a dialogue's L utterances: k / L; for `strategy_by_progress` a
  supporter utterance counts at the nearest of the points 0, 0.2, ..., 1 (halves go up);
- feedback thirds: a rating given at progress p falls in the first third for p <= 1/3, the
  middle for p <= 2/3, the last otherwise;
- an n-hop sequence: n + 1 consecutive strategies of the supporter's utterances (seeker
  utterances in between are skipped), so a 3-hop sequence is four strategies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from analytics import lexical
from analytics.dialogues import Dialogue
from crowd import vocabulary

PROGRESS_POINTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HOPS = (3, 4)
TOP_SEQUENCES = 5
ROLES = (vocabulary.SEEKER, vocabulary.SUPPORTER)


@dataclass
class _Mean:
    total: float = 0.0
    n: int = 0

    def add(self, value: float) -> None:
        self.total += value
        self.n += 1

    def value(self) -> float | None:
        return self.total / self.n if self.n else None


@dataclass
class _Counts:
    """Everything the report keeps while dialogues stream by."""

    dialogues: int = 0
    utterances: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    strategies: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    emotions: Counter[str] = field(default_factory=Counter)
    initial: _Mean = field(default_factory=_Mean)
    final: _Mean = field(default_factory=_Mean)
    feedback: _Mean = field(default_factory=_Mean)
    feedback_thirds: list[_Mean] = field(default_factory=lambda: [_Mean(), _Mean(), _Mean()])
    by_progress: list[Counter[str]] = field(
        default_factory=lambda: [Counter() for _ in PROGRESS_POINTS]
    )
    sequences: dict[int, Counter[tuple[str, ...]]] = field(
        default_factory=lambda: {hops: Counter() for hops in HOPS}
    )
    lexicon: lexical.Lexicon = field(default_factory=lexical.Lexicon)


def _progress_point(k: int, length: int) -> int:
    """The index in PROGRESS_POINTS nearest to k / length (halves go up)."""
    steps = len(PROGRESS_POINTS) - 1
    return int(steps * k / length + 0.5)


def _third(k: int, length: int) -> int:
    progress = k / length
    return 0 if progress <= 1 / 3 else 1 if progress <= 2 / 3 else 2


def _add_dialogue(counts: _Counts, dialogue: Dialogue) -> None:
    counts.dialogues += 1
    counts.problems[dialogue.problem] += 1
    counts.emotions[dialogue.emotion] += 1
    if dialogue.initial_intensity is not None:
        counts.initial.add(dialogue.initial_intensity)
    if dialogue.final_intensity is not None:
        counts.final.add(dialogue.final_intensity)
    length = len(dialogue.turns)
    supporter_turns = supporter_words = seeker_words = 0
    strategies: list[str] = []
    # The hot loop of a large report: 30 turns a dialogue, so names are looked up once.
    add_word = counts.lexicon.add
    by_progress = counts.by_progress
    for k, (speaker, text, strategy, feedback) in enumerate(dialogue.turns, start=1):
        words = len(text.split())
        if speaker == vocabulary.SUPPORTER:
            supporter_turns += 1
            supporter_words += words
            if strategy:
                by_progress[_progress_point(k, length)][strategy] += 1
                add_word(strategy, text)
                strategies.append(strategy)
        else:
            seeker_words += words
        if feedback is not None:
            counts.feedback.add(feedback)
            counts.feedback_thirds[_third(k, length)].add(feedback)
    counts.utterances[vocabulary.SUPPORTER] += supporter_turns
    counts.utterances[vocabulary.SEEKER] += length - supporter_turns
    counts.words[vocabulary.SUPPORTER] += supporter_words
    counts.words[vocabulary.SEEKER] += seeker_words
    counts.strategies.update(strategies)
    _add_sequences(counts, strategies)


def _add_sequences(counts: _Counts, strategies: list[str]) -> None:
    for hops in HOPS:
        window = hops + 1
        counts.sequences[hops].update(
            tuple(strategies[start : start + window])
            for start in range(len(strategies) - window + 1)
        )


def _by_role(counter: Counter[str]) -> dict[str, int]:
    return {
        "total": sum(counter[role] for role in ROLES),
        "seeker": counter[vocabulary.SEEKER],
        "supporter": counter[vocabulary.SUPPORTER],
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _names(counter: Counter[str], known: Iterable[str]) -> dict[str, int]:
    """Counts by name: the vocabulary's names first (zeros included), then any others."""
    known = list(known)
    result = {name: counter[name] for name in known}
    for name, count in sorted(counter.items(), key=lambda item: (-item[1], item[0])):
        if name not in result:
            result[name] = count
    return result


def _strategy_by_progress(counts: _Counts, strategies: list[str]) -> dict[str, list[float]]:
    totals = [sum(point.values()) for point in counts.by_progress]
    return {
        strategy: [
            _ratio(point[strategy], total) or 0.0
            for point, total in zip(counts.by_progress, totals, strict=True)
        ]
        for strategy in strategies
    }


def _transitions(counts: _Counts) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for hops, counter in counts.sequences.items():
        total = sum(counter.values())
        top = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_SEQUENCES]
        result[f"{hops}-hop"] = [
            {"sequence": list(sequence), "count": count, "share": count / total}
            for sequence, count in top
        ]
    return result


def _summary(counts: _Counts) -> dict[str, Any]:
    utterances = _by_role(counts.utterances)
    words = _by_role(counts.words)
    return {
        "dialogues": counts.dialogues,
        "utterances": utterances,
        "utterances_per_dialogue": {
            key: _ratio(value, counts.dialogues) for key, value in utterances.items()
        },
        "words_per_utterance": {key: _ratio(words[key], utterances[key]) for key in utterances},
    }


def _finish(counts: _Counts) -> dict[str, Any]:
    strategies = list(_names(counts.strategies, vocabulary.STRATEGY_NAMES))
    return {
        **_summary(counts),
        "strategies": _names(counts.strategies, vocabulary.STRATEGY_NAMES),
        "problems": _names(counts.problems, ()),
        "emotions": _names(counts.emotions, ()),
        "intensity": {
            "initial_mean": counts.initial.value(),
            "initial_n": counts.initial.n,
            "final_mean": counts.final.value(),
            "final_n": counts.final.n,
        },
        "feedback": {
            "n": counts.feedback.n,
            "mean": counts.feedback.value(),
            "by_third": [third.value() for third in counts.feedback_thirds],
        },
        "progress_points": list(PROGRESS_POINTS),
        "strategy_by_progress": _strategy_by_progress(counts, strategies),
        "transitions": _transitions(counts),
        "lexical": counts.lexicon.report(strategies),
    }


def _count(dialogues: Iterable[Dialogue]) -> _Counts:
    counts = _Counts()
    for dialogue in dialogues:
        _add_dialogue(counts, dialogue)
    return counts


def build_report(dialogues: Iterable[Dialogue]) -> dict[str, Any]:
    """The report over `dialogues` (read once, in one pass)."""
    return _finish(_count(dialogues))


def strategy_progress(dialogues: Iterable[Dialogue]) -> dict[str, Any]:
    """The report's strategy counts and strategy-by-progress table alone, over `dialogues`.

    Counted by the same code as `build_report`, so that a model's conversations (the paper's
    Figure 5, evaluation.report) are binned exactly as the dataset's Figure 4.
    """
    counts = _count(dialogues)
    strategies = _names(counts.strategies, vocabulary.STRATEGY_NAMES)
    return {
        "dialogues": counts.dialogues,
        "supporter_utterances": counts.utterances[vocabulary.SUPPORTER],
        "strategies": strategies,
        "progress_points": list(PROGRESS_POINTS),
        "strategy_by_progress": _strategy_by_progress(counts, list(strategies)),
    }
