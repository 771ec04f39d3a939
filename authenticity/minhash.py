"""MinHash signatures of word shingles, LSH banding and estimated Jaccard, all in numpy.

Signatures are computed here rather than with datasketch: datasketch is not a dependency of
the project, and its MinHash hashes one shingle per Python call, which at three million
messages (about forty million shingles) costs minutes; here a whole batch of shingles is
hashed by every permutation in a few array operations. The method is the standard one
(Broder's MinHash, LSH banding as in Leskovec, Rajaraman and Ullman, "Mining of Massive
Datasets", ch. 3), with b-bit minwise hashing (Li and König) keeping 16 bits per value.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
Signatures = npt.NDArray[np.uint16]
Indexes = npt.NDArray[np.int64]

# Shingles hashed together: a chunk's hash matrix (shingles x permutations, 8 bytes each)
# stays near 32 MB with 64 permutations.
SHINGLE_CHUNK = 1 << 16
# In a bucket of more than this many + 1 messages (one script pasted with small edits), each
# is compared with the next WINDOW only, so the work grows with n, not n squared.
WINDOW = 16
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def word_hashes(vocabulary: list[str]) -> U64:
    """A 64-bit hash of each word, by word id; stable across processes and input orders."""
    digests = b"".join(hashlib.blake2b(w.encode(), digest_size=8).digest() for w in vocabulary)
    return np.frombuffer(digests, dtype=np.uint64).copy()


def _mix(x: U64) -> U64:
    """splitmix64's finaliser: spreads every input bit over every output bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _permutations(num_perm: int) -> tuple[U64, U64]:
    """Seeded (odd multiplier, offset) pairs: the same signatures in every run."""
    rng = np.random.default_rng(20240518)
    high = np.iinfo(np.uint64).max
    a = rng.integers(1, high, size=num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, high, size=num_perm, dtype=np.uint64, endpoint=True)
    return a, b


def _shingle_hashes(ids: npt.NDArray[np.int32], hashes: U64, starts: Indexes, k: int) -> U64:
    """The hash of each k-word shingle beginning at `starts` (indexes into `ids`)."""
    value = np.zeros(len(starts), dtype=np.uint64)
    for offset in range(k):
        # Rotating by position makes "a b c" and "c b a" different shingles.
        word = hashes[ids[starts + offset]]
        value = _mix(value ^ ((word << np.uint64(offset)) | (word >> np.uint64(64 - offset))))
    return value


def _chunk_signatures(
    shingles: U64, owners: Indexes, count: int, perms: tuple[U64, U64]
) -> Signatures:
    """The minimum of each permutation over each owner's shingles (owners sorted, 0..count-1)."""
    a, b = perms
    with np.errstate(over="ignore"):
        values = (np.multiply.outer(shingles, a) + b) >> np.uint64(48)
    firsts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    signature = np.minimum.reduceat(values.astype(np.uint16), firsts, axis=0)
    assert len(firsts) == count  # every message of at least `k` words has a shingle
    return signature


def signatures(
    ids: npt.NDArray[np.int32], hashes: U64, spans: tuple[Indexes, Indexes], k: int, num_perm: int
) -> Signatures:
    """One row of `num_perm` 16-bit minima per message, a message being ids[start:end] (>= k).

    Messages are taken a chunk at a time so that memory stays flat however many there are.
    """
    starts, ends = spans
    counts = ends - starts - k + 1
    bounds = np.cumsum(counts)
    out = np.empty((len(starts), num_perm), dtype=np.uint16)
    perms = _permutations(num_perm)
    first = 0
    while first < len(starts):
        done = int(bounds[first - 1]) if first else 0
        last = max(first + 1, int(np.searchsorted(bounds, done + SHINGLE_CHUNK, side="right")))
        n = counts[first:last]
        owners = np.repeat(np.arange(last - first), n)
        offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        shingles = _shingle_hashes(ids, hashes, starts[first:last][owners] + offsets, k)
        out[first:last] = _chunk_signatures(shingles, owners, last - first, perms)
        first = last
    return out


def _band_keys(block: Signatures) -> U64:
    """One 64-bit key per row of a band: equal rows, equal keys."""
    key = np.zeros(len(block), dtype=np.uint64)
    for column in block.T:
        key = _mix(key ^ column.astype(np.uint64))
    return key


def band_keys(sig: Signatures, bands: int) -> U64:
    """Each row's key in each band, shape (rows, bands), the band's number mixed in so that
    keys of different bands never meet: what the live checks store (authenticity.models.Band)."""
    rows = sig.shape[1] // bands
    keys = np.empty((len(sig), bands), dtype=np.uint64)
    for band in range(bands):
        block = _band_keys(sig[:, band * rows : (band + 1) * rows])
        keys[:, band] = _mix(block ^ np.uint64(band + 1))
    return keys


def candidate_pairs(sig: Signatures, bands: int) -> Indexes:
    """(i, j) rows, i < j, that agree on every value of at least one band, each pair once."""
    n, rows = len(sig), sig.shape[1] // bands
    codes: list[Indexes] = []
    for band in range(bands):
        keys = _band_keys(sig[:, band * rows : (band + 1) * rows])
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        for distance in range(1, WINDOW + 1):
            same = np.flatnonzero(ordered[:-distance] == ordered[distance:])
            if not len(same):
                break  # no bucket holds more than `distance` messages
            i, j = order[same], order[same + distance]
            codes.append(np.minimum(i, j) * n + np.maximum(i, j))
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(codes))
    return np.stack([unique // n, unique % n], axis=1)


def estimated_jaccard(sig: Signatures, pairs: Indexes) -> npt.NDArray[np.float64]:
    """The share of signature values each pair agrees on: an unbiased estimate of Jaccard."""
    out = np.empty(len(pairs), dtype=np.float64)
    step = 1 << 16
    for first in range(0, len(pairs), step):
        chunk = pairs[first : first + step]
        out[first : first + step] = (sig[chunk[:, 0]] == sig[chunk[:, 1]]).mean(axis=1)
    return out
