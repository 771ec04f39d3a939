"""The safety model: a small TF-IDF + logistic-regression classifier per speaker.

It is trained at first use from our own phrasings (examples.yaml) and kept in the process:
training takes well under a second, so there is no model file to ship, version or trust, and
an edit to the examples takes effect on the next start. Word n-grams carry the meaning of
indirect phrasings ("better off without me"); character n-grams carry misspellings and the
word forms the examples did not spell out. Training is deterministic: the same examples give
the same model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from esc_platform import yaml_text
from safety.categories import NONE, SPEAKERS, categories_for
from safety.text import normalise

EXAMPLES_PATH = Path(__file__).with_name("examples.yaml")

# Inverse regularisation strength. Chosen among 3, 10 and 30 (with and without class
# re-weighting, with and without character n-grams) as the setting that kept the held-out
# recall while firing least on a sample of real ESConv lines (docs/safety.md).
C = 3.0


class ExamplesError(ValueError):
    """The examples file is malformed."""


@dataclass(frozen=True, slots=True)
class SpeakerModel:
    pipeline: Pipeline
    classes: tuple[str, ...]
    fast: _FastPath  # the same numbers, for scoring one text without sklearn

    def probability(self, text: str) -> dict[str, float]:
        """`probabilities` for one text without sklearn's per-call overhead (~1 ms).

        Recomputes what the fitted pipeline does, from its vocabularies, idf and
        coefficients: analyser -> counts -> tf (sublinear if set) x idf -> L2 per vectorizer
        -> coef . x + intercept -> softmax (or sigmoid for two classes).
        """
        scores = self.fast.intercept.copy()
        for analyse, vocabulary, idf, sublinear, coef in self.fast.parts:
            counts: dict[int, int] = {}
            for term in analyse(text):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            indices = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if sublinear:
                tf = np.log(tf) + 1.0
            weights = tf * idf[indices]
            norm = float(np.sqrt(weights @ weights))
            if norm > 0:
                scores += coef[:, indices] @ (weights / norm)
        return self.fast.to_dict(scores)

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per text (normalised), category -> probability, for every category but "none"."""
        if not texts:
            return []
        matrix = self.pipeline.predict_proba(list(texts))
        return [
            {c: float(p) for c, p in zip(self.classes, row, strict=True) if c != NONE}
            for row in np.asarray(matrix)
        ]


@dataclass(frozen=True, slots=True)
class _FastPath:
    """The fitted pipeline's numbers, laid out for scoring one text in plain numpy."""

    parts: tuple[tuple[Any, dict[str, int], Any, bool, Any], ...]
    intercept: Any
    classes: tuple[str, ...]
    binary: bool

    @classmethod
    def of(cls, pipeline: Pipeline) -> _FastPath:
        """Read the fitted FeatureUnion (in its column order) and the classifier."""
        union = pipeline.named_steps["features"]
        classifier = pipeline.named_steps["classifier"]
        coef = np.asarray(classifier.coef_, dtype=np.float64)
        parts, start = [], 0
        for _, vectorizer in union.transformer_list:
            vocabulary = {str(t): int(i) for t, i in vectorizer.vocabulary_.items()}
            width = len(vocabulary)
            parts.append(
                (
                    vectorizer.build_analyzer(),
                    vocabulary,
                    np.asarray(vectorizer.idf_, dtype=np.float64),
                    bool(vectorizer.sublinear_tf),
                    np.ascontiguousarray(coef[:, start : start + width]),
                )
            )
            start += width
        intercept = np.asarray(classifier.intercept_, dtype=np.float64)
        classes = tuple(str(c) for c in classifier.classes_)
        return cls(tuple(parts), intercept, classes, len(classes) == 2)

    def to_dict(self, scores: Any) -> dict[str, float]:
        """Decision scores -> category probabilities, as LogisticRegression.predict_proba."""
        if self.binary:
            positive = 1.0 / (1.0 + float(np.exp(-scores[0])))
            probs = [1.0 - positive, positive]
        else:
            shifted = np.exp(scores - scores.max())
            probs = list(shifted / shifted.sum())
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True) if c != NONE}


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
            ),
        ]
    )


def training_set(data: Any, speaker: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of one speaker's model from the examples file's data."""
    if not isinstance(data, dict):
        raise ExamplesError("the examples need 'positives' and 'negatives' mappings")
    positives, negatives = data.get("positives") or {}, data.get("negatives") or {}
    texts: list[str] = []
    labels: list[str] = []
    for category in categories_for(speaker):
        phrasings = positives.get(category) or []
        if not phrasings:
            raise ExamplesError(f"no positive examples for {category}")
        texts += [normalise(p) for p in phrasings]
        labels += [category] * len(phrasings)
    others = negatives.get(speaker) or []
    if not others:
        raise ExamplesError(f"no negative examples for {speaker} messages")
    texts += [normalise(p) for p in others]
    labels += [NONE] * len(others)
    return texts, labels


def train(texts: list[str], labels: list[str]) -> SpeakerModel:
    """Fit one speaker's classifier; deterministic (lbfgs, no random state involved).

    Classes are not re-weighted: the "none" class outnumbers each category, as it does in
    real chats, which keeps the model's probabilities on everyday lines low. BLAS runs on one
    thread: on a shared machine its thread pool made a 0.1 s fit take seconds.
    """
    pipeline = Pipeline(
        [
            ("features", _features()),
            ("classifier", LogisticRegression(C=C, max_iter=3000)),
        ]
    )
    with threadpool_limits(limits=1):
        pipeline.fit(texts, labels)
    return SpeakerModel(pipeline, tuple(str(c) for c in pipeline.classes_), _FastPath.of(pipeline))


@cache
def load_examples(path: Path = EXAMPLES_PATH) -> Any:
    return yaml_text.load(path.read_text(encoding="utf-8"))


@cache
def model_for(speaker: str) -> SpeakerModel:
    """This speaker's model, trained at first use and kept for the life of the process."""
    if speaker not in SPEAKERS:
        categories_for(speaker)  # raises the ValueError naming the speaker
    return train(*training_set(load_examples(), speaker))
