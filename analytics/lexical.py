"""Words that mark each strategy: log-odds ratios with an informative Dirichlet prior.

Monroe, Colaresi and Quinn (2008), "Fightin' Words", section 3.5: for a term w, strategy i and
the rest of the supporter's utterances j (every other strategy),

    delta_w = log((y_iw + a_w) / (n_i + a_0 - y_iw - a_w))
            - log((y_jw + a_w) / (n_j + a_0 - y_jw - a_w))
    var(delta_w) ~= 1 / (y_iw + a_w) + 1 / (y_jw + a_w),   z_w = delta_w / sqrt(var)

where y are term counts, n the total counts of each side, and the prior a_w is the term's count
in all supporter utterances together (a_0 their sum), as the paper suggests when no larger
background corpus is at hand. Terms are ranked by z. Tokens are lower-cased runs of letters,
digits and apostrophes; bigrams are adjacent tokens of one utterance.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import count
from typing import Any

import numpy as np

TOP_TERMS = 10
_TOKEN = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class _Tally:
    """Counts of integer codes, kept as two sorted arrays and merged a batch at a time."""

    def __init__(self) -> None:
        self.codes = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, codes: np.ndarray) -> None:
        if not codes.size:
            return
        new, counts = np.unique(codes, return_counts=True)
        merged, where = np.unique(np.concatenate((self.codes, new)), return_inverse=True)
        self.counts = np.bincount(
            where, weights=np.concatenate((self.counts, counts)), minlength=merged.size
        ).astype(np.int64)
        self.codes = merged


class Lexicon:
    """Unigram and bigram counts per strategy, added an utterance at a time.

    A report over 100,000 conversations counts some 30 million tokens, too many to count one
    by one in Python: each token becomes an integer id (a dict lookup done in C), a strategy's
    ids wait in a flat buffer (-1 between utterances), and every BATCH ids are counted with
    numpy — unigrams by id, bigrams by the pair's code `first << 32 | second`.
    """

    BATCH = 1 << 18

    def __init__(self) -> None:
        self._ids: defaultdict[str, int] = defaultdict(count().__next__)
        self._buffers: dict[str, list[int]] = {}
        self._unigrams: dict[str, _Tally] = {}
        self._bigrams: dict[str, _Tally] = {}

    def add(self, strategy: str, text: str) -> None:
        buffer = self._buffers.get(strategy)
        if buffer is None:
            buffer = self._buffers[strategy] = []
            self._unigrams[strategy], self._bigrams[strategy] = _Tally(), _Tally()
        buffer.extend(map(self._ids.__getitem__, tokens(text)))
        buffer.append(-1)
        if len(buffer) >= self.BATCH:
            self._count(strategy)

    def _count(self, strategy: str) -> None:
        ids = np.array(self._buffers[strategy], dtype=np.int64)
        self._buffers[strategy].clear()
        self._unigrams[strategy].add(ids[ids >= 0])
        first, second = ids[:-1], ids[1:]
        both = (first >= 0) & (second >= 0)
        self._bigrams[strategy].add((first[both] << 32) | second[both])

    def _terms(self) -> list[str]:
        terms = [""] * len(self._ids)
        for term, i in self._ids.items():
            terms[i] = term
        return terms

    def _counted(self, tallies: dict[str, _Tally], name: Any) -> dict[str, Counter[str]]:
        for strategy in self._buffers:
            self._count(strategy)
        terms = self._terms()
        return {
            strategy: Counter(
                {name(terms, int(code)): int(n) for code, n in zip(t.codes, t.counts, strict=True)}
            )
            for strategy, t in tallies.items()
        }

    @property
    def unigrams(self) -> dict[str, Counter[str]]:
        return self._counted(self._unigrams, lambda terms, code: terms[code])

    @property
    def bigrams(self) -> dict[str, Counter[str]]:
        """Bigram counts per strategy, each bigram written "first second"."""
        return self._counted(
            self._bigrams, lambda terms, code: f"{terms[code >> 32]} {terms[code & 0xFFFFFFFF]}"
        )

    def report(self, strategies: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Per strategy, its top terms of each kind: term, log-odds ratio (delta) and z."""
        unigrams = log_odds(self.unigrams)
        bigrams = log_odds(self.bigrams)
        return {
            strategy: {"unigrams": unigrams.get(strategy, []), "bigrams": bigrams.get(strategy, [])}
            for strategy in strategies
        }


def _z_scores(
    mine: np.ndarray, prior: np.ndarray, prior_total: float
) -> tuple[np.ndarray, np.ndarray]:
    """delta and z of every term for one group against the rest (the module's formula)."""
    rest = prior - mine
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((mine + prior) / (mine.sum() + prior_total - mine - prior)) - np.log(
            (rest + prior) / (rest.sum() + prior_total - rest - prior)
        )
        z = delta / np.sqrt(1 / (mine + prior) + 1 / (rest + prior))
    return delta, z


def log_odds(
    counts: dict[str, Counter[str]], top: int = TOP_TERMS
) -> dict[str, list[dict[str, Any]]]:
    """The top `top` terms of each group against all other groups, by z-score."""
    if len(counts) < 2:
        return {group: [] for group in counts}
    vocabulary = sorted(set().union(*counts.values()))
    index = {term: i for i, term in enumerate(vocabulary)}
    groups = list(counts)
    matrix = np.zeros((len(groups), len(vocabulary)))
    for row, group in enumerate(groups):
        for term, n in counts[group].items():
            matrix[row, index[term]] = n
    prior = matrix.sum(axis=0)
    prior_total = prior.sum()
    result = {}
    for row, group in enumerate(groups):
        delta, z = _z_scores(matrix[row], prior, prior_total)
        # Only terms this strategy uses (a term it never says is not one that marks it), and
        # only where the formula is defined: a term that is the whole corpus has no odds.
        ranked = np.where((matrix[row] > 0) & np.isfinite(z), z, -np.inf)
        order = [i for i in np.argsort(-ranked, kind="stable")[:top] if np.isfinite(ranked[i])]
        result[group] = [
            {"term": vocabulary[i], "log_odds": float(delta[i]), "z": float(z[i])} for i in order
        ]
    return result
