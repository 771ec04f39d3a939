"""The production server's start-up check: N processes' database connections must fit."""

from __future__ import annotations

import pytest
from django.db import connection

from esc_platform import serve


def test_the_budget_names_what_to_change_when_connections_do_not_fit() -> None:
    fits = serve.ConnectionBudget(
        workers=4, per_process=30, others=10, max_connections=200, reserved=3
    )
    assert fits.problem() is None
    too_many = serve.ConnectionBudget(
        workers=8, per_process=30, others=10, max_connections=200, reserved=3
    )
    problem = too_many.problem()
    assert problem is not None
    assert "8 web processes × 30" in problem and "= 250" in problem and "allows 197" in problem
    assert "--workers" in problem


@pytest.mark.django_db
def test_start_up_refuses_more_processes_than_postgresql_allows(
    capsys: pytest.CaptureFixture[str], settings: object
) -> None:
    budget = serve.connection_budget(workers=2)
    if connection.vendor != "postgresql":
        # The embedded default (SQLite) has no connection limit to check.
        assert budget is None
        return
    assert budget is not None
    # The figures come from the server itself and from this process's settings.
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        assert budget.max_connections == int(cursor.fetchone()[0])
    assert budget.per_process >= 1
    workers = budget.available // budget.per_process + 1
    assert serve.main(["--workers", str(workers), "--port", "1"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("ESC Platform configuration error:")
    assert f"{workers} web processes" in error


def test_workers_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.main(["--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
