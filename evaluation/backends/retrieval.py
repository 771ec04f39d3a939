"""The retrieval backend: answer with what a human supporter said in the most similar moment.

Every supporter utterance of the source conversations is a candidate, keyed by its context: the
few turns before it, the seeker's words counted twice (what the seeker just said matters more
than what the supporter said), and the situation until the seeker has said something. Contexts
are TF-IDF vectors, L2-normalised, so a dot product is the cosine similarity. The index keeps them
term-major (one row per term), so scoring a query reads only the rows of the query's own terms
instead of every candidate's vector.

Modes (docs/evaluation.md, "Backends"): Joint searches every candidate, so the strategy comes
with the best match; Oracle searches the request's strategy only; Random draws the strategy from
the index's own distribution, reproducibly, then searches it. A text the supporter has already
said in the request's dialog is never said again.

Nothing here touches the database; evaluation.backends.sources feeds it approved conversations.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from crowd import vocabulary
from evaluation.backends.contract import (
    MAX_REPLY_CHARS,
    BackendError,
    Reply,
    SupporterRequest,
    Turn,
    record_dialog,
)

CONTEXT_TURNS = 3
SEEKER_WEIGHT = 2
# Ranked candidates looked at before falling back to a full sort (only when the dialog has
# already used up all of them).
SHORTLIST = 32
JOINT, ORACLE, RANDOM = "joint", "oracle", "random"
SITUATION_MARK = "situation_"
_WORD = re.compile(r"\w+")


def context_text(situation: str, turns: Sequence[Turn]) -> str:
    """What a candidate is found by: the last turns, the seeker's twice; early on the situation."""
    recent = turns[-CONTEXT_TURNS:]
    parts: list[str] = []
    for turn in recent:
        parts.extend([turn.text] * (SEEKER_WEIGHT if turn.speaker == vocabulary.SEEKER else 1))
    if not any(turn.speaker == vocabulary.SEEKER for turn in recent):
        # Before the seeker has said anything, the situation is the only clue to the topic. Its
        # words get their own terms: a short situation ("I lost my job.") would otherwise be
        # the best match of a seeker saying the same words halfway through a chat, and bring
        # back the greeting that followed it.
        parts.extend(SITUATION_MARK + word for word in _WORD.findall(situation.casefold()))
    return " ".join(parts)


def text_key(text: str) -> str:
    """The same text for the no-repeat rule, whatever its case and spacing."""
    return " ".join(text.split()).casefold()


def _source_turns(source: Any) -> tuple[str, list[Turn]]:
    """(situation, dialog) of an ESConv dict, an ExportRecord or a ParsedConversation."""
    if isinstance(source, dict):
        return str(source.get("situation", "")), list(record_dialog(source))
    turns = []
    for item in source.utterances:
        if isinstance(item, tuple):  # ExportRecord: (position, speaker, text, strategy, feedback)
            turns.append(Turn(speaker=item[1], text=item[2], strategy=item[3]))
        else:
            turns.append(Turn(speaker=item.speaker, text=item.text, strategy=item.strategy))
    return source.situation, turns


@dataclass(frozen=True)
class _Candidates:
    """Candidates' rows (into the index's lists) and their vectors, term-major."""

    rows: np.ndarray
    postings: sparse.csr_matrix


class RetrievalIndex:
    """Supporter utterances of many conversations, searchable by the context they answered."""

    def __init__(self, contexts: list[str], texts: list[str], strategies: list[str]) -> None:
        self.texts = texts
        self.strategies = strategies
        self.keys = [text_key(text) for text in texts]
        self.counts = {name: strategies.count(name) for name in vocabulary.STRATEGY_NAMES}
        self._vectorizer: TfidfVectorizer | None = None
        self._all: _Candidates | None = None
        self._by_strategy: dict[str, _Candidates] = {}
        if texts:
            self._build(contexts)

    def _build(self, contexts: list[str]) -> None:
        # Single-letter words count ("I", "a"): an opening line may hold nothing longer.
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32
        )
        matrix = sparse.csr_matrix(vectorizer.fit_transform(contexts))
        self._vectorizer = vectorizer
        every = np.arange(len(self.texts))
        self._all = _Candidates(every, sparse.csr_matrix(matrix.T))
        labels = np.array(self.strategies)
        for name, count in self.counts.items():
            if count:
                rows = every[labels == name]
                self._by_strategy[name] = _Candidates(rows, sparse.csr_matrix(matrix[rows].T))

    @classmethod
    def from_conversations(cls, conversations: Iterable[Any]) -> RetrievalIndex:
        """An index of every supporter utterance (ESConv JSON-lines dicts, ExportRecords or
        ParsedConversations); texts too long for a reply are left out."""
        contexts: list[str] = []
        texts: list[str] = []
        strategies: list[str] = []
        for source in conversations:
            situation, turns = _source_turns(source)
            for position, turn in enumerate(turns):
                text = turn.text.strip()
                if turn.speaker != vocabulary.SUPPORTER or turn.strategy is None:
                    continue
                if not text or len(text) > MAX_REPLY_CHARS:
                    continue
                contexts.append(context_text(situation, turns[:position]))
                texts.append(text)
                strategies.append(turn.strategy)
        return cls(contexts, texts, strategies)

    @property
    def size(self) -> int:
        return len(self.texts)

    def vector_bytes(self) -> int:
        """Memory of the vectors (all candidates and the per-strategy copies), not the texts."""
        total = 0
        for candidates in [self._all, *self._by_strategy.values()]:
            if candidates is not None:
                matrix = candidates.postings
                total += matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
        return total

    def vector(self, request: SupporterRequest) -> sparse.csr_matrix:
        """The request's context as the index's vector (1 x terms)."""
        if self._vectorizer is None:
            raise BackendError("no_data", "the retrieval index holds no supporter utterance")
        text = context_text(str(request.survey.get("situation") or ""), request.dialog)
        return sparse.csr_matrix(self._vectorizer.transform([text]))

    def best(self, query: sparse.csr_matrix, strategy: str | None, used: set[str]) -> int:
        """The row of the best candidate (of `strategy`, if given) whose text is not in `used`."""
        candidates = self._all if strategy is None else self._by_strategy.get(strategy)
        if candidates is None:
            raise BackendError("no_data", "the retrieval index holds no utterance of this strategy")
        scores = np.asarray((query @ candidates.postings).todense()).ravel()
        for order in _ranked(scores, SHORTLIST), _ranked(scores, len(scores)):
            for local in order:
                row = int(candidates.rows[local])
                if self.keys[row] not in used:
                    return row
        raise BackendError("no_data", "every candidate has already been said in this dialog")


def _ranked(scores: np.ndarray, limit: int) -> np.ndarray:
    """The `limit` best positions, best first; ties go to the earlier candidate."""
    if limit >= len(scores):
        return np.lexsort((np.arange(len(scores)), -scores))
    top = np.argpartition(-scores, limit)[:limit]
    return top[np.lexsort((top, -scores[top]))]


class RetrievalBackend:
    """Answers from a RetrievalIndex in one of the three modes."""

    def __init__(self, index: RetrievalIndex, mode: str = JOINT, seed: int = 0) -> None:
        if mode not in (JOINT, ORACLE, RANDOM):
            raise BackendError("bad_request", f"unknown retrieval mode {mode!r}")
        self.index = index
        self.mode = mode
        self.seed = seed

    def reply(self, request: SupporterRequest) -> Reply:
        index = self.index
        query = index.vector(request)
        used = {text_key(t.text) for t in request.dialog if t.speaker == vocabulary.SUPPORTER}
        row = index.best(query, self._strategy(request), used)
        return Reply(strategy=index.strategies[row], text=index.texts[row])

    def _strategy(self, request: SupporterRequest) -> str | None:
        """The strategy to search: none (Joint), the request's (Oracle) or a draw (Random)."""
        if self.mode == ORACLE:
            if request.strategy is None:
                raise BackendError("bad_request", "strategy: the Oracle mode needs one")
            return request.strategy
        if self.mode == RANDOM:
            return self.draw(request)
        return None

    def draw(self, request: SupporterRequest) -> str:
        """A strategy drawn by the index's distribution, the same for the same seed and request."""
        names = [name for name, count in self.index.counts.items() if count]
        weights = [self.index.counts[name] for name in names]
        material = json.dumps([self.seed, request.to_json()], sort_keys=True).encode("utf-8")
        generator = random.Random(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))
        return generator.choices(names, weights=weights)[0]
