"""Time the retrieval backend's replies over the released ESConv data (docs/evaluation.md).

    .venv/bin/python bench/retrieval_latency.py [PATH] [--n 300] [--seed 1] [--json]

PATH is the folder of the released splits (default: $ESCONV_DATA_DIR/hf_release_splits, else
shared/esconv/hf_release_splits beside the checkout, where the tests look too). The index is
built from train and valid (as a backend's index is built from a collection's approved
conversations; `--index-splits train,valid,test` for all 1,300); the requests come from the
test split, each cut at a random point, so by default no request's own conversation is in the index.
The same N requests are answered in each mode (Oracle is given the strategy the human
supporter used next), one at a time, and each reply is timed alone.

In the same run it times a bare baseline: for the same requests, only what every reply must
do before it searches (the context text and its TF-IDF vector), so the difference is the
search itself. It prints the load and build times, the index's size, and p50/p95/p99/max in
milliseconds per mode and for the baseline; with --json the last line is one JSON object.
Exit status 1 when a mode's p99 is over the budget (--budget-ms, default 200).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import percentile  # noqa: E402
from chat.dataset.reading import read_files  # noqa: E402
from crowd import vocabulary  # noqa: E402
from evaluation.backends.contract import SupporterRequest  # noqa: E402
from evaluation.backends.retrieval import RetrievalBackend, RetrievalIndex  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "esconv" / "hf_release_splits"
MODES = ("joint", "oracle", "random")


def default_data() -> Path:
    root = os.environ.get("ESCONV_DATA_DIR")
    return Path(root) / "hf_release_splits" if root else DEFAULT_DATA


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=None, help="the splits' folder")
    parser.add_argument("--n", type=int, default=300, help="replies per mode (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the cut points")
    parser.add_argument(
        "--index-splits",
        default="train,valid",
        help="splits the index is built from (default train,valid; train,valid,test: all 1,300)",
    )
    parser.add_argument("--budget-ms", type=float, default=200.0, help="p99 allowed per reply")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    args.path = args.path or default_data()
    args.index_splits = [name.strip() for name in args.index_splits.split(",") if name.strip()]
    for name in [*args.index_splits, "test"]:
        if not (args.path / f"{name}.json").is_file():
            parser.error(f"no {name}.json in {args.path}; give the splits' folder")
    return args


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(samples, digits=3, fraction=0.50),
        "p95_ms": percentile(samples, digits=3, fraction=0.95),
        "p99_ms": percentile(samples, digits=3, fraction=0.99),
        "max_ms": percentile(samples, digits=3, fraction=1.0),
    }


def test_requests(path: Path, n: int, seed: int) -> list[SupporterRequest]:
    """N requests cut from the test split, each with the strategy the human used next."""
    records = [json.loads(line) for line in (path / "test.json").read_text("utf-8").split("\n")]
    draw = random.Random(seed)
    requests = []
    while len(requests) < n:
        record = draw.choice(records)
        dialog = record["dialog"]
        cut = draw.randrange(len(dialog))
        following = [item["strategy"] for item in dialog[cut:] if item["speaker"] == "sys"]
        strategy = following[0] if following else draw.choice(vocabulary.STRATEGY_NAMES)
        request = SupporterRequest.from_jsonl_record(record, upto=cut).with_strategy(strategy)
        requests.append(request)
    return requests


def build_index(path: Path, splits: list[str]) -> tuple[RetrievalIndex, dict[str, Any]]:
    started = time.perf_counter()
    conversations = list(read_files([path / f"{name}.json" for name in splits]))
    loaded = time.perf_counter()
    index = RetrievalIndex.from_conversations(conversations)
    built = time.perf_counter()
    figures = {
        "index_splits": splits,
        "conversations": len(conversations),
        "candidates": index.size,
        "load_seconds": round(loaded - started, 3),
        "build_seconds": round(built - loaded, 3),
        "index_mb": round(index.vector_bytes() / 1e6, 1),
    }
    return index, figures


def timed(
    function: Callable[[SupporterRequest], Any], requests: list[SupporterRequest]
) -> list[float]:
    samples = []
    for request in requests:
        started = time.perf_counter()
        function(request)
        samples.append(time.perf_counter() - started)
    return samples


def measure(index: RetrievalIndex, requests: list[SupporterRequest]) -> dict[str, dict[str, float]]:
    """Per mode (and the baseline, first): the per-reply latency percentiles."""
    timed(RetrievalBackend(index).reply, requests[:20])  # warm caches and lazy imports
    results = {"baseline": summary(timed(index.vector, requests))}
    for mode in MODES:
        results[mode] = summary(timed(RetrievalBackend(index, mode=mode, seed=1).reply, requests))
    return results


def report(figures: dict[str, Any], results: dict[str, dict[str, float]], n: int) -> None:
    print(
        f"index: {figures['candidates']:,} supporter utterances of {figures['conversations']:,} "
        f"conversations ({' + '.join(figures['index_splits'])}), "
        f"{figures['index_mb']} MB of vectors; "
        f"read {figures['load_seconds']} s, built {figures['build_seconds']} s",
        flush=True,
    )
    print(f"{n} replies per mode, requests from the test split at random cut points:")
    for name, row in results.items():
        label = "baseline (vector only)" if name == "baseline" else name
        print(
            f"  {label:<23} p50 {row['p50_ms']:>7.3f} ms  p95 {row['p95_ms']:>7.3f} ms  "
            f"p99 {row['p99_ms']:>7.3f} ms  max {row['max_ms']:>7.3f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    index, figures = build_index(args.path, args.index_splits)
    requests = test_requests(args.path, args.n, args.seed)
    results = measure(index, requests)
    report(figures, results, args.n)
    over = [mode for mode in MODES if results[mode]["p99_ms"] > args.budget_ms]
    if over:
        print(f"over the {args.budget_ms:g} ms budget at p99: {', '.join(over)}")
    if args.json:
        print(json.dumps({"n": args.n, "seed": args.seed, **figures, **results, "over": over}))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
