"""Before a command or the server starts: can the database be reached, and if not, why.

A `DATABASE_URL` naming a database that does not exist, or a port where nothing listens, would
otherwise surface as the connection pool's "couldn't get a connection after 30.00 sec" at the
end of a long traceback, with the cause buried in the pool's log above it. Here one direct
connection is tried (no pool), within `DATABASE_CONNECT_TIMEOUT`, and a failure is said in
one line: which database on which host, and whether the connection was refused, timed out,
named an unknown host or database, or was not let in. The password is never part of it.
(docs/operations.md, "When the database cannot be reached".)
"""

from __future__ import annotations

from typing import Any

# manage.py commands that do not need the database: they run without the check.
NO_DATABASE_COMMANDS = frozenset(
    {
        "check",
        "collectstatic",
        "compilemessages",
        "diffsettings",
        "help",
        "makemessages",
        "makemigrations",
        "shell",
        "startapp",
        "startproject",
        "version",
    }
)


def _cause(message: str, settings_dict: dict[str, Any], timeout: object) -> str:
    text = message.lower()
    name, user = settings_dict.get("NAME") or "", settings_dict.get("USER") or ""
    if "does not exist" in text and "database" in text:
        return f'there is no database "{name}" there'
    if "password authentication failed" in text or "no password supplied" in text:
        return f'user "{user}" was not let in (authentication failed)'
    if "role" in text and "does not exist" in text:
        return f'user "{user}" was not let in (no such role)'
    if "pg_hba.conf" in text:
        return "the server does not let this client in (pg_hba.conf)"
    if "connection refused" in text:
        return "connection refused: nothing listens on that port"
    if "timeout expired" in text or "timed out" in text:
        return f"no answer within {timeout} s (DATABASE_CONNECT_TIMEOUT)"
    if "invalid response to ssl negotiation" in text or "server closed the connection" in text:
        return "something that is not PostgreSQL answered on that port"
    if "translate host name" in text or "name or service not known" in text:
        return "unknown host name"
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return first


def database_problem() -> str | None:
    """One line saying why the default database cannot be reached; None when it can (or when
    it is SQLite, whose file is made on first use)."""
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        return None
    import psycopg

    options = settings_dict.get("OPTIONS") or {}
    timeout = options.get("connect_timeout", 10)
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or 5432
    name = settings_dict.get("NAME") or ""
    try:
        psycopg.connect(
            host=host,
            port=port,
            dbname=name,
            user=settings_dict.get("USER") or None,
            password=settings_dict.get("PASSWORD") or None,
            connect_timeout=timeout,
        ).close()
    except psycopg.Error as exc:
        return f'cannot reach the database "{name}" at {host}:{port}: ' + _cause(
            str(exc), settings_dict, timeout
        )
    return None


def command_needs_database(argv: list[str]) -> bool:
    command = argv[1] if len(argv) > 1 else "help"
    return not command.startswith("-") and command not in NO_DATABASE_COMMANDS
