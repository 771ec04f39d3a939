"""What the chat load bench and the chaos bench share: the command line's checks, the printed
lines, Django's connections and the frame of a run (signals, exit status, the JSON line).

A bench's main() parses its options, calls handle_signals(), then run_bench(run, clean_up):

    exit status 0 or 1: what run() returned (1: the figures are bad);
    2: the bench could not set itself up (BenchSetupError, a server or manage.py that failed);
    130: interrupted by Ctrl-C or SIGTERM (clean_up() runs in every case).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from devtools.manage import ManageError
from devtools.server import ServerError

SETUP_FAILED = 2
INTERRUPTED = 130


class BenchSetupError(Exception):
    """The bench could not set itself up: no database, no Redis, a failed migration…"""


def log(message: str) -> None:
    print(message, flush=True)


# --- the command line --------------------------------------------------------------------------


def add_seed_and_json(parser: argparse.ArgumentParser, seed_help: str) -> None:
    parser.add_argument("--seed", type=int, default=None, help=seed_help)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )


def percentile(samples: list[float], fraction: float, digits: int = 2) -> float:
    """Nearest-rank percentile of `samples` (seconds) in milliseconds (0 for no samples)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1] * 1000, digits)


def check_range(
    parser: argparse.ArgumentParser,
    option: str,
    value: float,
    bounds: tuple[float, float],
    unit: str = "",
) -> None:
    """Exit through parser.error unless low <= value <= high (`option` as typed: --pairs)."""
    low, high = bounds
    if not low <= value <= high:
        parser.error(f"{option} must be between {low} and {high}{unit}")


def parse_in_ranges(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    **ranges: tuple[float, float],
) -> argparse.Namespace:
    """Parse argv; exit through parser.error when an option named in `ranges` (by its dest:
    pairs=(1, 1000) is --pairs) is outside its bounds."""
    args = parser.parse_args(argv)
    for dest, bounds in ranges.items():
        check_range(parser, "--" + dest.replace("_", "-"), getattr(args, dest), bounds)
    return args


def check_postgresql_url(parser: argparse.ArgumentParser, option: str, url: str) -> None:
    if urlsplit(url).scheme not in {"postgres", "postgresql"}:
        parser.error(f"{option} must be a postgresql:// URL")


# --- Django --------------------------------------------------------------------------------------


def close_django_connections() -> None:
    """Close this process's database connections, if it has set Django up at all."""
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()


# --- the run -------------------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind through the `finally` blocks, like Ctrl-C, so everything is stopped and removed.
    raise KeyboardInterrupt


def handle_signals() -> None:
    """SIGTERM and Ctrl-C both raise KeyboardInterrupt, so run_bench() cleans up after them."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_bench(
    run: Callable[[], tuple[dict[str, Any], int]],
    clean_up: Callable[[], None],
    *,
    json_line: bool,
    setup_errors: tuple[type[Exception], ...] = (),
) -> int:
    """run() -> (figures, exit status); clean_up() always; the figures as the last line if asked."""
    result: dict[str, Any] = {}
    exit_code = 0
    try:
        result, exit_code = run()
    except (BenchSetupError, ServerError, ManageError, *setup_errors) as exc:
        log(f"bench setup failed: {exc}")
        exit_code = SETUP_FAILED
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        exit_code = INTERRUPTED
    finally:
        clean_up()
    if json_line and result:
        print(json.dumps(result), flush=True)
    return exit_code
