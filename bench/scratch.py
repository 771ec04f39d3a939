"""The throwaway databases benchmarks run on, so they never write into the development database.

- use_database(None, workdir): a SQLite file inside workdir (the caller deletes workdir);
- use_database(url, workdir): exactly the database the user named with --database-url;
- fresh_database_url / create_database / drop_database: a new PostgreSQL database with a
  random name on a given server, created for one run and dropped after it.

An ambient DATABASE_URL or SQLITE_PATH is ignored on purpose: benchmarks use a database only
when told so explicitly.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def use_database(database_url: str | None, workdir: Path) -> dict[str, str]:
    """Point this process (and the returned environment, for children) at the bench database."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    env["DJANGO_SETTINGS_MODULE"] = "esc_platform.settings"
    os.environ.clear()
    os.environ.update(env)
    return env


def fresh_database_url(base_url: str) -> tuple[str, str]:
    """A new database name on the given server: never an existing one, so dropping it is safe."""
    parts = urlsplit(base_url)
    base_name = parts.path.lstrip("/") or "esc_bench"
    name = f"{base_name}_{secrets.token_hex(4)}"[:63]
    return urlunsplit(parts._replace(path="/" + name)), name


def admin_connection(url: str) -> psycopg.Connection[Any]:
    parts = urlsplit(url)
    return psycopg.connect(
        urlunsplit(parts._replace(path="/postgres")), autocommit=True, connect_timeout=5
    )


def create_database(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        # FORCE: a killed server may leave its connections behind for a moment.
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
