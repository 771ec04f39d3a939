"""The command line of bench/chaos.py."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

# A fresh esc_chaos_<random> database is created on this server and dropped afterwards.
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/esc_chaos"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Chat pairs through four injected faults, on a stack of the bench's own."
    )
    parser.add_argument("--pairs", type=int, default=50, help="concurrent conversations")
    parser.add_argument(
        "--phase-seconds", type=float, default=20.0, help="chatting time of each phase"
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=30.0,
        help="longest quiet time after a phase for every message to arrive",
    )
    parser.add_argument(
        "--qc-conversations",
        type=int,
        default=None,
        help="imported conversations the judging task works on (default 40 per pair, >= 400)",
    )
    parser.add_argument(
        "--postgres",
        default=DEFAULT_SERVER,
        help=f"PostgreSQL server and base name (default {DEFAULT_SERVER})",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed the clients' randomness")
    parser.add_argument("--keep", action="store_true", help="keep the logs directory")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.pairs <= 1000:
        parser.error("--pairs must be between 1 and 1000")
    if not 4 <= args.phase_seconds <= 600:
        parser.error("--phase-seconds must be between 4 and 600")
    if not 1 <= args.settle_seconds <= 600:
        parser.error("--settle-seconds must be between 1 and 600")
    if args.qc_conversations is None:
        args.qc_conversations = max(400, 40 * args.pairs)
    if not 20 <= args.qc_conversations <= 100_000:
        parser.error("--qc-conversations must be between 20 and 100000")
    if urlsplit(args.postgres).scheme not in {"postgres", "postgresql"}:
        parser.error("--postgres must be a postgresql:// URL")
    return args


def log(message: str) -> None:
    print(message, flush=True)
