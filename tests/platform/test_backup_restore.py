"""A collection's database backed up with pg_dump and restored onto a fresh database exports
the same ESConv file, byte for byte (docs/operations.md, "Backups")."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from devtools.manage import run_manage
from tests.services_probe import require

HOST, PORT, USER = "127.0.0.1", 5432, "postgres"


def _admin(sql: str) -> None:
    with psycopg.connect(host=HOST, port=PORT, user=USER, dbname="postgres", autocommit=True) as c:
        c.execute(sql)


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    try:
        _admin("SELECT 1")
    except psycopg.Error as exc:
        require("PostgreSQL", False, f"cannot reach {HOST}:{PORT} ({exc})")
    require("pg_dump", shutil.which("pg_dump") is not None, "install PostgreSQL's client tools")
    names = (f"esc_backup_{uuid.uuid4().hex[:8]}", f"esc_restored_{uuid.uuid4().hex[:8]}")
    _admin(f'CREATE DATABASE "{names[0]}"')
    _admin(f'CREATE DATABASE "{names[1]}"')  # the fresh data host's empty database
    try:
        yield names
    finally:
        for name in names:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return env | {"DATABASE_URL": f"postgresql://{USER}@{HOST}:{PORT}/{name}"}


def test_a_restored_backup_exports_the_same_file(
    databases: tuple[str, str], esconv_dir: Path, tmp_path: Path
) -> None:
    original, restored = databases
    run_manage("migrate", "--noinput", env=_env(original))
    data = esconv_dir / "hf_release_splits" / "test.json"
    run_manage("import_esconv", str(data), "--status", "approved", env=_env(original))
    before = tmp_path / "before.json"
    run_manage("export_esconv", "--output", str(before), env=_env(original))

    backup = tmp_path / "collection.dump"
    url = f"postgresql://{USER}@{HOST}:{PORT}"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={backup}", f"{url}/{original}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}/{restored}", str(backup)],
        check=True,
        capture_output=True,
    )
    after = tmp_path / "after.json"
    run_manage("export_esconv", "--output", str(after), env=_env(restored))
    assert before.stat().st_size > 100_000
    assert after.read_bytes() == before.read_bytes()
