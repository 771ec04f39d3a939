"""The production web server: `python -m esc_platform.serve` (docs/operations.md, "Sizing").

It starts uvicorn with N worker processes (`--workers`, or WEB_WORKERS; default the number of
cores), all behind the Redis channel layer, so a conversation whose two sides landed on
different processes is relayed between them. Before it starts it checks that N processes' database
connections fit in what PostgreSQL allows, and stops with one line that says what to change if
they do not:

    N × (DATABASE_POOL_MAX + DATABASE_ASYNC_POOL_MAX) + DATABASE_OTHER_CONNECTIONS
        ≤ max_connections − superuser_reserved_connections

(DATABASE_OTHER_CONNECTIONS, default 10, leaves room for Celery, migrations and psql.)
Websocket compression is off: chat frames are small, and deflating each one cost the server
more CPU than the bytes it saved.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

APPLICATION = "esc_platform.asgi:application"


@dataclass(frozen=True)
class ConnectionBudget:
    workers: int
    per_process: int
    others: int
    max_connections: int
    reserved: int

    @property
    def needed(self) -> int:
        return self.workers * self.per_process + self.others

    @property
    def available(self) -> int:
        return self.max_connections - self.reserved

    def problem(self) -> str | None:
        """What is wrong, in one line, or None when the connections fit."""
        if self.needed <= self.available:
            return None
        return (
            f"{self.workers} web processes × {self.per_process} database connections each"
            f" (DATABASE_POOL_MAX + DATABASE_ASYNC_POOL_MAX) + {self.others} for other clients"
            f" (DATABASE_OTHER_CONNECTIONS) = {self.needed}, but PostgreSQL allows"
            f" {self.available} (max_connections {self.max_connections} −"
            f" {self.reserved} reserved): use fewer --workers, smaller pools, or raise"
            " max_connections"
        )


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def connection_budget(workers: int) -> ConnectionBudget | None:
    """The database connections N web processes need and PostgreSQL allows (None: not PG)."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    others = int(os.environ.get("DATABASE_OTHER_CONNECTIONS", "10"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int,"
            " current_setting('superuser_reserved_connections')::int"
        )
        max_connections, reserved = cursor.fetchone()
    per_process = (settings.DATABASE_POOL_MAX if settings.DATABASE_POOL else 0) + (
        settings.DATABASE_ASYNC_POOL_MAX
    )
    return ConnectionBudget(workers, per_process, others, max_connections, reserved)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve ESC Platform with uvicorn.")
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "0.0.0.0"))  # noqa: S104
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_WORKERS") or default_workers()),
        help="server processes (default: WEB_WORKERS, else the number of cores)",
    )
    parser.add_argument("--proxy-headers", action="store_true", help="behind a reverse proxy")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--log-level", default="info")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workers < 1:
        print("ESC Platform: --workers must be at least 1", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")
    os.environ.setdefault("ESC_PROCESS_KIND", "web")
    import django
    from django.db import Error as DatabaseError
    from django.db import connection

    django.setup()
    from esc_platform.preflight import database_problem

    if (problem := database_problem()) is not None:
        print(f"ESC Platform: {problem}", file=sys.stderr)
        return 1
    try:
        budget = connection_budget(args.workers)
        # The supervisor serves nothing itself: it keeps no connection open (a test's
        # transaction, where this runs inside one, is left alone).
        if not connection.in_atomic_block:
            connection.close()
    except DatabaseError as exc:
        print(f"ESC Platform: cannot reach the database to size the pools: {exc}", file=sys.stderr)
        return 1
    if budget is not None and (problem := budget.problem()) is not None:
        print(f"ESC Platform configuration error: {problem}", file=sys.stderr)
        return 1
    import uvicorn

    uvicorn.run(
        APPLICATION,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ws_per_message_deflate=False,
        proxy_headers=args.proxy_headers,
        access_log=not args.no_access_log,
        log_level=args.log_level,
        lifespan="off",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
