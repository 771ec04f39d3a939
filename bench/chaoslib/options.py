"""The command line of bench/chaos.py."""

from __future__ import annotations

import argparse

from bench.common import add_seed_and_json, check_postgresql_url, check_range, parse_in_ranges

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
    add_seed_and_json(parser, "seed the clients' randomness")
    parser.add_argument("--keep", action="store_true", help="keep the logs directory")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parse_in_ranges(
        parser, argv, pairs=(1, 1000), phase_seconds=(4, 600), settle_seconds=(1, 600)
    )
    if args.qc_conversations is None:
        args.qc_conversations = max(400, 40 * args.pairs)
    check_range(parser, "--qc-conversations", args.qc_conversations, (20, 100_000))
    check_postgresql_url(parser, "--postgres", args.postgres)
    return args
