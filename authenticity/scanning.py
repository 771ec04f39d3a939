"""Scanning ESConv files or a collection run for pasted, templated and scripted messages.

Two signals (docs/authenticity.md): a message of at least `min_words` words that another
conversation holds too, word for word or nearly (a duplicate), and a supporter opening many of
their chats with the same words (a templated opening, runs only: files name no workers).

One pass reads the source and keeps, per long message, a few integers and its word ids; no
text is held. Exact repeats are grouped by a hash of the normal form first, and MinHash with
LSH banding (authenticity.minhash) then compares one copy of each distinct text.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import numpy.typing as npt

from authenticity import minhash
from authenticity.minhash import Indexes
from authenticity.text import normalise, text_hash, words
from chat.dataset.exporting import exportable_conversations
from crowd.models import CollectionRun
from safety.categories import SPEAKERS, SUPPORTER
from safety.scanning import Line, file_conversations, run_conversations

# The readers are safety_scan's: a scan reads files and runs exactly as that one does.
__all__ = [
    "DUPLICATE",
    "TEMPLATED_OPENING",
    "Flag",
    "Line",
    "ScanResult",
    "ScanSettings",
    "excerpts",
    "file_conversations",
    "run_conversations",
    "run_supporters",
    "scan",
]

DUPLICATE = "duplicate"
TEMPLATED_OPENING = "templated_opening"
ROLES = {speaker: role for role, speaker in enumerate(SPEAKERS)}


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """The scan's knobs; docs/authenticity.md says why each default is what it is."""

    min_words: int = 10  # shorter messages are never duplicates: courtesies repeat honestly
    threshold: float = 0.8  # estimated Jaccard of 3-word shingles, at least
    shingle: int = 3
    num_perm: int = 64  # signature values per message
    bands: int = 16  # of num_perm / bands = 4 values each
    opening_words: int = 8  # a templated opening: the first 8 words of a first message ...
    opening_repeats: int = 3  # ... in at least 3 of one supporter's conversations
    max_matches: int = 20  # other places listed per flag, the first in input order

    def __post_init__(self) -> None:
        if self.min_words < self.shingle:
            raise ValueError(f"min_words must be at least the shingle size, {self.shingle}")
        if self.num_perm % self.bands:
            raise ValueError("num_perm must be a multiple of bands")


@dataclass(frozen=True, slots=True)
class Flag:
    conversation: int  # index in the input (files) or conversation id (runs)
    position: int
    speaker: str
    kind: str
    score: float
    matches: list[tuple[int, int]]

    def as_json(self) -> dict[str, object]:
        return {
            "conversation": self.conversation,
            "position": self.position,
            "speaker": self.speaker,
            "kind": self.kind,
            "score": self.score,
            "matches": [list(match) for match in self.matches],
        }


@dataclass(slots=True)
class ScanResult:
    conversations: int = 0
    utterances: int = 0
    long_supporter_utterances: int = 0  # supporter messages of at least min_words words
    flags: list[Flag] = field(default_factory=list)

    @property
    def flagged_utterances(self) -> int:
        return len({(flag.conversation, flag.position) for flag in self.flags})

    def as_json(self) -> dict[str, object]:
        return {
            "conversations": self.conversations,
            "utterances": self.utterances,
            "flagged_utterances": self.flagged_utterances,
            "flags": [flag.as_json() for flag in self.flags],
        }


class _Vocabulary(dict[str, int]):
    """Word -> id, a new word getting the next id when first looked up."""

    def __missing__(self, word: str) -> int:
        self[word] = number = len(self)
        return number


@dataclass(slots=True)
class _Collected:
    """What one pass keeps: per long message its place, role, text hash and word ids."""

    settings: ScanSettings
    keys: list[int] = field(default_factory=list)  # conversation key by input index
    conversation: array[int] = field(default_factory=lambda: array("i"))
    position: array[int] = field(default_factory=lambda: array("i"))
    role: array[int] = field(default_factory=lambda: array("b"))
    hashes: array[int] = field(default_factory=lambda: array("Q"))
    ids: array[int] = field(default_factory=lambda: array("i"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    vocabulary: _Vocabulary = field(default_factory=lambda: _Vocabulary())
    # (conversation index, position, first words) of each conversation's first supporter line.
    openings: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)
    result: ScanResult = field(default_factory=ScanResult)

    def add(self, key: int, lines: list[Line]) -> None:
        index, vocabulary, minimum = len(self.keys), self.vocabulary, self.settings.min_words
        self.keys.append(key)
        self.result.conversations += 1
        self.result.utterances += len(lines)
        opened = False
        for position, speaker, text in lines:
            normal = normalise(text)
            found = words(normal)
            if speaker == SUPPORTER and not opened:
                opened = True
                self.openings.append((index, position, tuple(found[: self.settings.opening_words])))
            if len(found) < minimum:
                continue
            self.conversation.append(index)
            self.position.append(position)
            self.role.append(ROLES[speaker])
            self.hashes.append(text_hash(normal))
            # map() with a C lookup: the one per-word step, about forty million of them.
            self.ids.extend(map(vocabulary.__getitem__, found))
            self.ends.append(len(self.ids))

    def arrays(self) -> dict[str, npt.NDArray[np.int64]]:
        """The per-message columns as numpy arrays (int64, hashes as their bit pattern)."""
        return {
            "conversation": np.frombuffer(self.conversation, dtype=np.int32).astype(np.int64),
            "role": np.frombuffer(self.role, dtype=np.int8).astype(np.int64),
            "hash": np.frombuffer(self.hashes, dtype=np.uint64).view(np.int64),
            "end": np.frombuffer(self.ends, dtype=np.int64),
        }


Columns = dict[str, npt.NDArray[np.int64]]
# (one distinct text, another, the Jaccard of their shingle sets)
NearPair = tuple[int, int, float]


def _distinct_texts(columns: Columns) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each distinct (role, text) once: the first message holding it, and each message's text."""
    # The role rides in the hash's lowest bit: supporter and seeker texts never share an id.
    key = (columns["hash"] & ~np.int64(1)) | columns["role"]
    _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
    return firsts, inverse.ravel()


# Candidates whose estimate is this far below the threshold still get the exact Jaccard: with
# 64 values the estimate's standard error is about 0.05 near 0.8, so none worth keeping is lost.
MARGIN = 0.15


def _shingle_set(ids: array[int], start: int, end: int, k: int) -> set[tuple[int, ...]]:
    words_ = ids[start:end]
    return set(zip(*(words_[i:] for i in range(k)), strict=False))


def _exact_jaccard(collected: _Collected, pairs: list[tuple[int, int]]) -> list[float]:
    """The true Jaccard of each pair of messages' shingle sets (few pairs reach this far)."""
    k, ends = collected.settings.shingle, collected.ends
    sets: dict[int, set[tuple[int, ...]]] = {}
    scores = []
    for pair in pairs:
        for m in pair:
            if m not in sets:
                sets[m] = _shingle_set(collected.ids, ends[m - 1] if m else 0, ends[m], k)
        a, b = sets[pair[0]], sets[pair[1]]
        scores.append(len(a & b) / len(a | b))
    return scores


def _role_candidates(
    collected: _Collected, columns: Columns, texts: npt.NDArray[np.int64], messages: Indexes
) -> Indexes:
    """Candidate pairs (as indexes into `texts`) among one role's distinct texts, `messages`
    being the first message of each. A function of its own so that each role's signatures
    are freed before the next role's are made."""
    settings = collected.settings
    ids = np.frombuffer(collected.ids, dtype=np.int32)
    hashes = minhash.word_hashes(list(collected.vocabulary))
    ends = columns["end"]
    spans = (np.where(messages > 0, ends[messages - 1], 0), ends[messages])
    sig = minhash.signatures(ids, hashes, spans, settings.shingle, settings.num_perm)
    pairs = minhash.candidate_pairs(sig, settings.bands)
    return pairs[minhash.estimated_jaccard(sig, pairs) >= settings.threshold - MARGIN]


def _near_pairs(
    collected: _Collected, columns: Columns, firsts: npt.NDArray[np.int64]
) -> list[NearPair]:
    """Pairs of distinct texts of one role whose shingle sets' Jaccard reaches the threshold:
    candidates by LSH, kept or dropped by the exact Jaccard."""
    candidates: list[tuple[int, int]] = []
    messages: list[tuple[int, int]] = []
    for role in range(len(SPEAKERS)):
        texts = np.flatnonzero(columns["role"][firsts] == role)
        pairs = _role_candidates(collected, columns, texts, firsts[texts])
        candidates += zip(texts[pairs[:, 0]].tolist(), texts[pairs[:, 1]].tolist(), strict=True)
        messages += zip(
            firsts[texts[pairs[:, 0]]].tolist(), firsts[texts[pairs[:, 1]]].tolist(), strict=True
        )
    scores = _exact_jaccard(collected, messages)
    return [
        (a, b, score)
        for (a, b), score in zip(candidates, scores, strict=True)
        if score >= collected.settings.threshold
    ]


@dataclass(slots=True)
class _Places:
    """The messages of each distinct text, in input order, looked up on demand."""

    order: npt.NDArray[np.int64]
    bounds: npt.NDArray[np.int64]
    cache: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, inverse: npt.NDArray[np.int64], texts: int) -> _Places:
        order = np.argsort(inverse, kind="stable")
        return cls(order, np.searchsorted(inverse[order], np.arange(texts + 1)))

    def __call__(self, text: int) -> list[int]:
        if text not in self.cache:
            self.cache[text] = self.order[self.bounds[text] : self.bounds[text + 1]].tolist()
        return self.cache[text]


def _links(places: _Places, texts: int, near: list[NearPair]) -> dict[int, list[tuple[int, float]]]:
    """For each text that may be a duplicate: the texts it matches (itself if repeated)."""
    links: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for text in np.flatnonzero(np.diff(places.bounds) >= 2).tolist():
        links[text].append((text, 1.0))
    for a, b, score in near:
        links[a].append((b, score))
        links[b].append((a, score))
    return links


def _matches(
    collected: _Collected, message: int, linked: list[tuple[int, float]], places: _Places
) -> tuple[float, list[int]]:
    """The best score and the first other messages, in other conversations, that match."""
    conversation, cap = collected.conversation, collected.settings.max_matches
    mine = conversation[message]
    best, found = 0.0, set()
    for text, score in linked:
        # Only the first `cap` are needed: a script pasted 5,000 times costs 5,000 x cap.
        others = list(islice((m for m in places(text) if conversation[m] != mine), cap))
        if others:
            best = max(best, score)
            found.update(others)
    return best, sorted(found)[:cap]


def _duplicate_flags(collected: _Collected) -> list[Flag]:
    """A flag on every long message matched by one in another conversation."""
    if not len(collected.hashes):
        return []
    columns = collected.arrays()
    firsts, inverse = _distinct_texts(columns)
    places = _Places.of(inverse, len(firsts))
    links = _links(places, len(firsts), _near_pairs(collected, columns, firsts))
    keys, positions, roles = collected.keys, collected.position, collected.role
    flags: list[Flag] = []
    for text, linked in links.items():
        for message in places(text):
            score, found = _matches(collected, message, linked, places)
            if not found:
                continue  # repeated, but only inside its own conversation
            matches = [(keys[collected.conversation[m]], positions[m]) for m in found]
            speaker = SPEAKERS[roles[message]]
            place = (keys[collected.conversation[message]], positions[message])
            flags.append(Flag(*place, speaker, DUPLICATE, round(score, 4), matches))
    return flags


def _opening_flags(collected: _Collected, supporters: dict[int, str]) -> list[Flag]:
    """First supporter lines starting with the same words in several of one worker's chats."""
    settings, keys = collected.settings, collected.keys
    chats = Counter(supporters[key] for key in keys if key in supporters)
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, int]]] = defaultdict(list)
    for index, position, opening in collected.openings:
        worker = supporters.get(keys[index])
        # A shorter first line ("Hi, how are you?") is a courtesy, not a template.
        if worker is not None and len(opening) == settings.opening_words:
            groups[(worker, opening)].append((index, position))
    flags: list[Flag] = []
    for (worker, _), places in groups.items():
        if len(places) < settings.opening_repeats:
            continue
        score = round(len(places) / chats[worker], 4)
        for index, position in places:
            others = [(keys[i], p) for i, p in places if i != index][: settings.max_matches]
            flags.append(Flag(keys[index], position, SUPPORTER, TEMPLATED_OPENING, score, others))
    return flags


def scan(
    conversations: Iterable[tuple[int, list[Line]]],
    supporters: dict[int, str] | None = None,
    settings: ScanSettings | None = None,
) -> ScanResult:
    """Scan (key, lines) pairs for duplicates, and for templated openings when `supporters`
    (conversation key -> the supporter, a person) is given; or the source's DatasetError."""
    collected = _Collected(settings or ScanSettings())
    for key, lines in conversations:
        collected.add(key, lines)
    result = collected.result
    roles = np.frombuffer(collected.role, dtype=np.int8)
    result.long_supporter_utterances = int(np.count_nonzero(roles == ROLES[SUPPORTER]))
    flags = _duplicate_flags(collected)
    if supporters is not None:
        flags += _opening_flags(collected, supporters)
    order = {key: index for index, key in enumerate(collected.keys)}
    result.flags = sorted(flags, key=lambda f: (order[f.conversation], f.position, f.kind))
    return result


def run_supporters(run: CollectionRun) -> dict[int, str]:
    """Conversation id -> the supporter as a person, for the run's conversations that have one.

    A Worker row is one task in one run (one conversation at most), so the person behind it,
    `Worker.person_key`, is what links one supporter's conversations: across runs.
    """
    rows = exportable_conversations(status="all", run=run).filter(supporter__isnull=False)
    return dict(rows.values_list("pk", "supporter__person_key"))


def excerpts(
    conversations: Iterable[tuple[int, list[Line]]], wanted: set[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """The texts of the wanted (conversation, position) places, read again from the source."""
    found: dict[tuple[int, int], str] = {}
    for key, lines in conversations:
        found.update({(key, p): text for p, _, text in lines if (key, p) in wanted})
    return found
