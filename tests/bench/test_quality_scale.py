"""The quality benchmark runs at a tiny size on a throwaway database, never the default one."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.bench.helpers import (
    REPO,
    bench_script,
    database_exists,
    environment_without,
    last_json_line,
    run_script,
)
from tests.services_probe import reachable, require

BENCH = bench_script("quality_scale.py")
POSTGRES = "postgresql://postgres@127.0.0.1:5432/esc_quality_bench_test"


def fingerprint(path: Path) -> tuple[int, int, str] | None:
    """Size, mtime and content hash of a file; None when it does not exist."""
    if not path.exists():
        return None
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_judges_on_a_temporary_database_and_leaves_the_default_one_alone(
    tmp_path: Path,
) -> None:
    # Where a user's data would be: the project's db.sqlite3, an SQLITE_PATH and a DATABASE_URL.
    default_file = REPO / "db.sqlite3"
    sqlite_path = tmp_path / "mine.sqlite3"
    sqlite_path.write_bytes(b"the user's database; a bench must not open it")
    ambient_url_file = tmp_path / "ambient.sqlite3"
    before = fingerprint(default_file), fingerprint(sqlite_path)
    env = environment_without("BENCH_DATABASE_URL")
    env.update(SQLITE_PATH=str(sqlite_path), DATABASE_URL=f"sqlite:///{ambient_url_file}")

    done = run_script(BENCH, "--conversations", "5", "--utterances", "6", timeout=300, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^judged 5 conversations \(6 utterances each\) in ", done.stdout, re.M)
    used = re.search(r"^database: temporary SQLite file (\S+) \(deleted afterwards\)", done.stdout)
    assert used is not None, done.stdout
    assert not Path(used.group(1)).exists()
    assert not Path(used.group(1)).parent.exists()
    assert (fingerprint(default_file), fingerprint(sqlite_path)) == before
    assert not ambient_url_file.exists()


@pytest.mark.postgres
def test_with_postgres_it_creates_a_fresh_database_and_drops_it() -> None:
    require("PostgreSQL", reachable(POSTGRES, 5432), "start PostgreSQL on 127.0.0.1:5432")
    env = environment_without("DATABASE_URL", "BENCH_DATABASE_URL")

    done = run_script(BENCH, "--conversations", "5", "--postgres", POSTGRES, timeout=300, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^judged 5 conversations ", done.stdout, re.M)
    name = re.search(r"^database: fresh PostgreSQL database (\w+) \(dropped", done.stdout, re.M)
    assert name is not None and name.group(1).startswith("esc_quality_bench_test_")
    assert not database_exists(POSTGRES, name.group(1))


def test_it_reports_its_figures_and_issues_a_constant_number_of_queries_per_chunk() -> None:
    env = environment_without("DATABASE_URL", "BENCH_DATABASE_URL")

    done = run_script(
        BENCH,
        "--conversations",
        "60",
        "--utterances",
        "4",
        "--chunk-size",
        "20",
        "--json",
        timeout=300,
        env=env,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = last_json_line(done)
    assert figures["conversations"] == 60 and figures["chunks"] == 3
    assert figures["seconds"] > 0 and figures["conversations_per_s"] > 0
    assert figures["filtered"] + figures["approved"] + figures["review"] == 60
    assert figures["skipped"] == 0
    # Per chunk of 20 conversations (80 utterances): a dozen statements, whatever its size; a
    # query per conversation or per utterance would be 20 or 80 a chunk.
    assert figures["queries"] <= 15 * figures["chunks"] + 3
    assert figures["queries_per_chunk"] == pytest.approx(figures["queries"] / 3, abs=0.01)


def test_it_refuses_two_databases_at_once() -> None:
    done = run_script(BENCH, "--postgres", "postgresql://x/y", "--database-url", "z", timeout=60)

    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
