"""Near-duplicate messages across a run, found during the chat (docs/authenticity.md).

A MinHash signature like the scan's (authenticity.minhash: 3-word shingles; 32 values in 8
bands of 4) is made of each stored message of at least the rule set's `duplicate_min_words`
words, and its 8 band keys are stored (authenticity.models.Band). A new message's keys are
looked up among the run's: a message of the same role in another conversation that shares one
is a candidate, and the two are duplicates when the Jaccard similarity of their shingle sets,
computed exactly from the texts, reaches `duplicate_threshold`. Both messages then carry an
`authenticity_duplicate` flag whose `matches` name the other places.

A message's keys are stored before its lookup, each in its own statement, so of two copies
sent at once by two processes at least the later lookup sees the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Model

from authenticity import minhash
from authenticity.models import Band
from authenticity.scanning import ScanSettings
from authenticity.text import normalise, words
from chat.models import Utterance
from quality.models import AutoApprovalRuleSet, Flag

SCAN = ScanSettings()
# Half the scan's signature: 32 values in 8 bands of 4, so 8 rows a message to store and
# index while the chat goes on. Two messages of Jaccard 0.8 share a band with a probability
# of 98.5%, of 0.9 with 99.98%; exact copies always.
NUM_PERM = 32
BANDS = 8
# The other places a flag names, the earliest first; a reviewer needs a few, not forty.
MAX_MATCHES = SCAN.max_matches
# Keys looked up per query: well under every database's limit on parameters.
LOOKUP_CHUNK = 500
# Candidates compared word for word per message, the earliest first: a script pasted into a
# hundred chats is flagged on its first copies, and costs no more than that.
MAX_CANDIDATES = 2 * MAX_MATCHES

Shingles = frozenset[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message as the duplicate check needs it."""

    conversation_id: int
    position: int
    run_id: int
    speaker: str
    text: str


def shingles(message_words: Sequence[str]) -> Shingles:
    k = SCAN.shingle
    return frozenset(tuple(message_words[i : i + k]) for i in range(len(message_words) - k + 1))


def jaccard(a: Shingles, b: Shingles) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def band_keys(texts: Sequence[Sequence[str]]) -> npt.NDArray[np.int64]:
    """Each text's band keys (texts as word lists of at least the shingle size), as int64."""
    vocabulary: dict[str, int] = {}
    ids: list[int] = []
    ends: list[int] = []
    for text in texts:
        ids += [vocabulary.setdefault(word, len(vocabulary)) for word in text]
        ends.append(len(ids))
    end = np.array(ends, dtype=np.int64)
    start = np.r_[np.int64(0), end[:-1]]
    hashes = minhash.word_hashes(list(vocabulary))
    sig = minhash.signatures(
        np.array(ids, dtype=np.int32), hashes, (start, end), SCAN.shingle, NUM_PERM
    )
    return minhash.band_keys(sig, BANDS).view(np.int64)


def _chunks(values: Iterable[int], size: int) -> Iterable[list[int]]:
    """`values` in lists of `size` (the last shorter)."""
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


Place = tuple[int, int]  # (conversation, position)


def check(messages: Iterable[Message], rules: AutoApprovalRuleSet) -> int:
    """Store the band keys of the long `messages`, flag each duplicate pair found; returns how
    many messages carry a new or a grown duplicate flag."""
    long = [
        (message, found)
        for message in messages
        if len(found := words(normalise(message.text))) >= rules.duplicate_min_words
    ]
    if not long:
        return 0
    keys = band_keys([found for _, found in long])
    insert_rows(
        Band,
        ["run_id", "speaker", "key", "conversation_id", "position"],
        [
            (m.run_id, m.speaker, key, m.conversation_id, m.position)
            for (m, _), row in zip(long, keys.tolist(), strict=True)
            for key in row
        ],
    )
    holders = _holders({m.run_id for m, _ in long}, set(keys.ravel().tolist()))
    candidates: dict[Place, set[Place]] = {}
    for (m, _), row in zip(long, keys.tolist(), strict=True):
        others = {
            (conversation, position)
            for key in row
            for run, speaker, conversation, position in holders.get(key, ())
            if run == m.run_id and speaker == m.speaker and conversation != m.conversation_id
        }
        if others:
            candidates[m.conversation_id, m.position] = set(sorted(others)[:MAX_CANDIDATES])
    if not candidates:
        return 0
    return _flag(_pairs(long, candidates, rules.duplicate_threshold))


def insert_rows(
    model: type[Model], columns: list[str], rows: list[tuple[Any, ...]], *, ignore: bool = False
) -> None:
    """Insert `rows` of `columns` (attribute names) into `model`'s table in one statement:
    16 band keys a message are many objects for the ORM, and this runs for every message.
    With `ignore`, rows that would break a unique constraint are left out."""
    if not rows:
        return
    names = ", ".join(_column(model, c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    tail = " ON CONFLICT DO NOTHING" if ignore else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array a column, unnested by the server: five parameters for any number of
            # rows, where a placeholder a value costs psycopg more to parse than the insert.
            fields = {field.attname: field for field in model._meta.concrete_fields}
            arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in columns)
            statement = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}){tail}"  # noqa: S608
            cursor.execute(statement, [_array(column) for column in zip(*rows, strict=True)])
            return
        marks = ", ".join(["%s"] * len(columns))
        # Names from the model's meta, quoted; the values are parameters. One statement,
        # prepared once, many rows.
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks}){tail}"  # noqa: S608
        cursor.executemany(statement, rows)


def _array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of integers or strings, made in one join: psycopg adapts a
    list element by element in Python, which at thousands of keys a second shows."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{text}"' for text in quoted) + "}"


def _column(model: type[Model], attribute: str) -> str:
    """The quoted column of a model's field, by its attribute name."""
    fields = {field.attname: field.column for field in model._meta.concrete_fields}
    return connection.ops.quote_name(str(fields[attribute]))


def _holders(runs: set[int], keys: set[int]) -> dict[int, set[tuple[int, str, int, int]]]:
    """Of `runs`, the messages holding each of `keys`: (run, speaker, conversation, position).

    In SQL of our own: the ORM's IN lookup prepares each of hundreds of keys one by one, and
    psycopg parses a placeholder a key slowly."""
    found: dict[int, set[tuple[int, str, int, int]]] = defaultdict(set)
    table = connection.ops.quote_name(Band._meta.db_table)
    selected = ", ".join(
        _column(Band, c) for c in ("key", "run_id", "speaker", "conversation_id", "position")
    )
    run_ids = sorted(runs)
    postgresql = connection.vendor == "postgresql"
    run_column, key_column = _column(Band, "run_id"), _column(Band, "key")
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(keys), LOOKUP_CHUNK):
            if postgresql:  # two array parameters, whatever the number of keys
                where = f"{run_column} = ANY(%s::bigint[]) AND {key_column} = ANY(%s::bigint[])"
                params: list[Any] = [_array(run_ids), _array(chunk)]
            else:
                runs_in, keys_in = (", ".join(["%s"] * len(v)) for v in (run_ids, chunk))
                where = f"{run_column} IN ({runs_in}) AND {key_column} IN ({keys_in})"
                params = [*run_ids, *chunk]
            # Names from the model's meta, quoted; the values are parameters.
            cursor.execute(f"SELECT {selected} FROM {table} WHERE {where}", params)  # noqa: S608
            for key, run, speaker, conversation, position in cursor.fetchall():
                found[key].add((run, speaker, conversation, position))
    return found


def _utterances(places: set[Place]) -> dict[Place, tuple[int, str]]:
    """The stored message at each place: (utterance id, text)."""
    rows = Utterance.objects.filter(
        conversation_id__in={c for c, _ in places}, position__in={p for _, p in places}
    ).values_list("conversation_id", "position", "pk", "text")
    return {(c, p): (pk, text) for c, p, pk, text in rows if (c, p) in places}


def _pairs(
    long: list[tuple[Message, list[str]]], candidates: dict[Place, set[Place]], threshold: float
) -> dict[Place, dict[Place, float]]:
    """Each message's duplicates, both ways: {place: {other place: similarity}}."""
    texts = {(m.conversation_id, m.position): shingles(found) for m, found in long}
    wanted = {other for others in candidates.values() for other in others} - set(texts)
    for place, (_, text) in _utterances(wanted).items():
        texts[place] = shingles(words(normalise(text)))
    links: dict[Place, dict[Place, float]] = defaultdict(dict)
    for place, others in candidates.items():
        for other in others:
            if other not in texts:
                continue  # gone since (a withdrawn conversation)
            score = jaccard(texts[place], texts[other])
            if score >= threshold:
                links[place][other] = score
                links[other][place] = score
    return links


def _flag(links: dict[Place, dict[Place, float]]) -> int:
    """Write one duplicate flag per linked message, growing the flag it already has."""
    if not links:
        return 0
    ids = {place: pk for place, (pk, _) in _utterances(set(links)).items()}
    existing = {
        flag.utterance_id: flag
        for flag in Flag.objects.filter(
            utterance_id__in=set(ids.values()), kind=Flag.Kind.AUTHENTICITY_DUPLICATE
        )
    }
    new: list[Flag] = []
    grown: list[Flag] = []
    for place, others in links.items():
        if place not in ids:
            continue
        flag = existing.get(ids[place])
        if flag is None:
            flag = Flag(
                conversation_id=place[0],
                utterance_id=ids[place],
                kind=Flag.Kind.AUTHENTICITY_DUPLICATE,
                matches=[],
            )
            _grow(flag, others)
            new.append(flag)
        elif _grow(flag, others):
            grown.append(flag)
    Flag.objects.bulk_create(new, ignore_conflicts=True)
    Flag.objects.bulk_update(grown, ["matches", "score", "detail"])
    return len(new) + len(grown)


def _grow(flag: Flag, others: dict[Place, float]) -> bool:
    """Add `others` to the flag's matches (the earliest first, at most MAX_MATCHES); whether
    anything changed."""
    known = {(m["conversation"], m["position"]) for m in flag.matches}
    if len(known) >= MAX_MATCHES:
        return False  # it names as many places as a reviewer needs
    added = [place for place in others if place not in known]
    best = max([flag.score or 0.0, *others.values()])
    if not added and best == (flag.score or 0.0):
        return False
    every = sorted(known | set(added))
    total = len(every)
    flag.matches = [
        {"conversation": conversation, "position": position}
        for conversation, position in every[:MAX_MATCHES]
    ]
    flag.score = round(best, 3)
    flag.detail = f"also sent in {_count(total)} of the run (similarity up to {flag.score:.2f})"
    return True


def _count(places: int) -> str:
    if places >= MAX_MATCHES:
        return f"{MAX_MATCHES} or more other places"
    return "1 other place" if places == 1 else f"{places} other places"
