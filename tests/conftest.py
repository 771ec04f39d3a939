"""Fixtures shared by every test package: the cast (tests/cast.py) and the real ESConv data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cast import (  # noqa: F401  (the cast's fixtures, for every package)
    ada_client,
    alice_client,
    bob_client,
    carol_client,
    dave_client,
    erin_client,
    frank_client,
    gus_client,
    mallory_client,
    otto_client,
    rita_client,
    sam_client,
    vera_client,
)
from tests.services_probe import require


@pytest.fixture(scope="session")
def esconv_dir() -> Path:
    """The real ESConv data (never copied into the repository)."""
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "esconv"
    path = Path(os.environ.get("ESCONV_DATA_DIR", str(default)))
    present = (path / "hf_release_splits" / "train.json").is_file()
    require("ESConv data", present, f"nothing at {path}; set ESCONV_DATA_DIR")
    return path


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Every test starts with no rate-limit counts: the test client always comes from 127.0.0.1.

    Only the in-process cache is emptied (tests never point the default cache at a Redis).
    """
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()


@pytest.fixture(autouse=True)
def _no_chat_pool_left() -> Iterator[None]:
    """Each test's event loop ends with it: its chat connection pool (chat.live_store) too."""
    yield
    from chat import live_store

    live_store.forget_pool()


# Modules whose outcome does not depend on the database of the pass: real-data scans that read
# files, benchmarks that start their own servers and databases, the slow quiz simulation, and
# the crowd-site clients, settlement, run files, staff sign-in, the retrieval backend, scans of
# files and the API and form fuzzers, which touch the database through the ORM only.
# `make test` runs them in the PostgreSQL pass only (marker `once`), and in the SQLite pass
# whenever PostgreSQL is not reachable (scripts/test.sh); docs/development.md, "Test passes".
ONCE_MODULES = (
    "tests/platform/test_backup_restore.py",
    "tests/analytics/test_bench_report_scale.py",
    "tests/analytics/test_real_data.py",
    "tests/authenticity/test_bench.py",
    "tests/authenticity/test_real_data.py",
    "tests/bench/test_chat_load.py",
    "tests/bench/test_flood.py",
    "tests/bench/test_retrieval_latency.py",
    "tests/crowd/test_run_files.py",
    "tests/dataset/test_bench_export_scale.py",
    "tests/evaluation/test_backend_command.py",
    "tests/evaluation/test_backend_real_data.py",
    "tests/evaluation/test_backend_retrieval.py",
    "tests/fuzz/test_fuzz_api_schema.py",
    "tests/fuzz/test_fuzz_form_posts.py",
    "tests/providers/test_mturk.py",
    "tests/providers/test_prolific.py",
    "tests/safety/test_detection.py",
    "tests/safety/test_real_data.py",
    "tests/safety/test_scan_command.py",
    "tests/settlement/test_blocks.py",
    "tests/settlement/test_invitations.py",
    "tests/settlement/test_recruitment.py",
    "tests/settlement/test_settle.py",
    "tests/settlement/test_sync.py",
    "tests/staff/test_audit.py",
    "tests/staff/test_logins.py",
    "tests/staff/test_second_factor.py",
    "tests/tutorial/test_quiz_measures.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parent.parent
    once = {root / module for module in ONCE_MODULES}
    missing = sorted(str(path) for path in once if not path.is_file())
    if missing:  # a renamed module would otherwise quietly run twice
        raise pytest.UsageError(f"ONCE_MODULES names no such file: {', '.join(missing)}")
    for item in items:
        if Path(str(item.path)) in once:
            item.add_marker(pytest.mark.once)
