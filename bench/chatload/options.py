"""The command line of bench/chat_load.py."""

from __future__ import annotations

import argparse
import os
from urllib.parse import urlsplit

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
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--no-relay", action="store_true", help="skip the bare relay run")
    parser.add_argument("--seed", type=int, default=None, help="seed the think-time randomness")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line"
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.pairs <= 5000:
        parser.error("--pairs must be between 1 and 5000")
    if not 1 <= args.messages <= 1000:
        parser.error("--messages must be between 1 and 1000")
    if not 0 <= args.think_ms <= 60_000:
        parser.error("--think-ms must be between 0 and 60000")
    if not 1 <= args.timeout <= 3600:
        parser.error("--timeout must be between 1 and 3600 seconds")
    if urlsplit(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgresql:// URL")
    return args


def log(message: str) -> None:
    print(message, flush=True)
