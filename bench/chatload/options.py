"""The command line of bench/chat_load.py."""

from __future__ import annotations

import argparse
import os

from bench.common import add_seed_and_json, check_postgresql_url, check_range, parse_in_ranges

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/esc_bench"
# A Redis database number of its own; nothing is flushed (see database.cleanup_redis).
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Load-test the chat websocket with P concurrent seeker–supporter pairs."
    )
    parser.add_argument("--pairs", type=int, default=50, help="concurrent conversations (P)")
    parser.add_argument("--messages", type=int, default=10, help="messages each side sends (M)")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=200.0,
        help="mean pause before each message, drawn uniformly from 0.5× to 1.5× (0: flat out)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_SERVER,
        help="PostgreSQL server and base name; a fresh <name>_<random> database is created",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS,
        help=f"Redis for the channel layer (default {DEFAULT_REDIS})",
    )
    parser.add_argument(
        "--channel-layer", choices=("pubsub", "core"), default="pubsub", help="CHANNEL_LAYER"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds allowed to each load phase"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=max(1, os.cpu_count() or 1),
        help="server processes, as esc_platform.serve starts them (default: the number of cores)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--no-relay", action="store_true", help="skip the bare relay run")
    add_seed_and_json(parser, "seed the think-time randomness")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parse_in_ranges(
        parser, argv, pairs=(1, 5000), messages=(1, 1000), think_ms=(0, 60_000), workers=(1, 64)
    )
    check_range(parser, "--timeout", args.timeout, (1, 3600), " seconds")
    check_postgresql_url(parser, "--database-url", args.database_url)
    return args
