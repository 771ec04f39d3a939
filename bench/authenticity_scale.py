"""Time the authenticity scan on many synthetic conversations, with planted duplicates.

    .venv/bin/python bench/authenticity_scale.py --conversations 100000 [--json]

Conversations (about 30 utterances, seeker and supporter in turn) are generated from a seeded
vocabulary and fed to authenticity.scanning.scan as the command's readers feed it, so no file
and no database is needed. A known share of supporter lines are planted copies of a few
hundred scripts: some word for word, some with one word changed. The same stream is first read
by a bare baseline (normalising and hashing every utterance) so the scan's own cost shows.
Printed: wall and CPU seconds of both, the process's peak RSS, flags found against planted.
With --json the last line is one JSON object of those figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED = 18
UTTERANCES = (26, 34)  # utterances per conversation, drawn uniformly
# One distinct pasted script per this many conversations (300 at 100,000): each is pasted in
# about a hundred conversations, so nearly every planted line has a copy in another one.
CONVERSATIONS_PER_SCRIPT = 330
SCRIPT_WORDS = (30, 45)  # one changed word keeps a script's 3-shingle Jaccard >= 0.8
EXACT_SHARE = 0.01  # supporter lines that are a script word for word
NEAR_SHARE = 0.01  # supporter lines that are a script with one word changed
COURTESY_SHARE = 0.08  # short courtesies: repeated everywhere, never flagged
COURTESIES = ("Hello, how are you?", "Thank you!", "You're welcome.", "Take care.", "Okay")
_PAIRS = "kalomineratusipovedarimolufeganisotabeku"
SYLLABLES = tuple(_PAIRS[i : i + 2] for i in range(0, len(_PAIRS), 2))

Line = tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class World:
    """The fixed material every conversation is drawn from."""

    vocabulary: list[str]
    weights: list[float]
    scripts: list[list[str]]


def make_world(rng: random.Random, scripts: int) -> World:
    """A Zipf-weighted vocabulary of pseudo-words and the scripts built from it."""
    words = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(12000)})
    rng.shuffle(words)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    cumulative = list(_accumulate(weights))
    scripts = [
        rng.choices(words, cum_weights=cumulative, k=rng.randint(*SCRIPT_WORDS))
        for _ in range(scripts)
    ]
    return World(words, cumulative, scripts)


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _sentence(words: list[str]) -> str:
    return " ".join(words).capitalize() + "."


def _length(rng: random.Random) -> int:
    """Words in an ordinary line: log-normal, median about 14, as in ESConv."""
    return max(1, min(90, round(rng.lognormvariate(2.65, 0.6))))


@dataclass(slots=True)
class Planted:
    """How many supporter lines were planted as exact and as near copies of a script."""

    exact: int = 0
    near: int = 0


def _supporter_line(rng: random.Random, world: World, planted: Planted) -> str:
    draw = rng.random()
    if draw < EXACT_SHARE:
        planted.exact += 1
        return _sentence(rng.choice(world.scripts))
    if draw < EXACT_SHARE + NEAR_SHARE:
        planted.near += 1
        script = list(rng.choice(world.scripts))
        # An inner word: changing one costs three shingles, so Jaccard >= 27/33 at 30 words.
        script[rng.randrange(3, len(script) - 3)] = rng.choice(world.vocabulary)
        return _sentence(script)
    return _line(rng, world)


def _line(rng: random.Random, world: World) -> str:
    if rng.random() < COURTESY_SHARE:
        return rng.choice(COURTESIES)
    return _sentence(rng.choices(world.vocabulary, cum_weights=world.weights, k=_length(rng)))


def conversations(n: int, planted: Planted) -> Iterator[tuple[int, list[Line]]]:
    """`n` seeded conversations as (index, lines); the same stream on every call."""
    rng = random.Random(SEED)
    world = make_world(rng, max(1, n // CONVERSATIONS_PER_SCRIPT))
    for index in range(n):
        lines: list[Line] = []
        for position in range(rng.randint(*UTTERANCES)):
            if position % 2:
                lines.append((position, "supporter", _supporter_line(rng, world, planted)))
            else:
                lines.append((position, "seeker", _line(rng, world)))
        yield index, lines


def baseline(source: Iterator[tuple[int, list[Line]]]) -> int:
    """The bare minimum of any text scan: normalise and hash every utterance."""
    from authenticity.text import normalise, text_hash, words

    count = 0
    for _, lines in source:
        for _, _, text in lines:
            normal = normalise(text)
            words(normal)
            text_hash(normal)
            count += 1
    return count


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """`work()`'s value, its wall seconds and its CPU seconds (this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(n: int) -> dict[str, Any]:
    """Baseline first (it holds nothing), then the scan, whose peak is the process's peak."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")
    import django

    django.setup()
    from authenticity.scanning import scan

    utterances, base_wall, base_cpu = timed(lambda: baseline(conversations(n, Planted())))
    planted = Planted()
    result, wall, cpu = timed(lambda: scan(conversations(n, planted)))
    flagged_supporters = {
        (f.conversation, f.position) for f in result.flags if f.speaker == "supporter"
    }
    return {
        "conversations": result.conversations,
        "utterances": utterances,
        "long_supporter_utterances": result.long_supporter_utterances,
        "planted_exact": planted.exact,
        "planted_near": planted.near,
        "flagged_utterances": result.flagged_utterances,
        "flagged_supporter_utterances": len(flagged_supporters),
        "flags": len(result.flags),
        "scan_wall_s": round(wall, 2),
        "scan_cpu_s": round(cpu, 2),
        "baseline_wall_s": round(base_wall, 2),
        "baseline_cpu_s": round(base_cpu, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def report(figures: dict[str, Any]) -> str:
    planted = figures["planted_exact"] + figures["planted_near"]
    return "\n".join(
        [
            f"scanned {figures['conversations']} conversations, {figures['utterances']} "
            f"utterances in {figures['scan_wall_s']} s wall, {figures['scan_cpu_s']} s CPU",
            f"baseline (normalise and hash each utterance): {figures['baseline_wall_s']} s wall,"
            f" {figures['baseline_cpu_s']} s CPU",
            f"peak RSS: {figures['peak_rss_mb']} MB",
            f"planted: {planted} supporter lines ({figures['planted_exact']} exact, "
            f"{figures['planted_near']} near); flagged: "
            f"{figures['flagged_supporter_utterances']} supporter, "
            f"{figures['flagged_utterances']} in all",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100000)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    figures = measure(args.conversations)
    print(report(figures))
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
