"""`/readyz`: ready only when the database answers, every migration is applied and Redis (when
used) answers; otherwise 503 saying which check failed (esc_platform/readiness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, override_settings

from devtools.server import free_port
from esc_platform import readiness
from tests.services_probe import require_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    readiness.forget_migrations()
    yield
    readiness.forget_migrations()


@override_settings(REDIS_URL="")
def test_a_migrated_process_without_redis_is_ready() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "migrations": "ok", "redis": "not used"},
    }
    assert "no-cache" in response["Cache-Control"]


@override_settings(REDIS_URL="")
def test_a_migration_not_applied_yet_makes_it_not_ready() -> None:
    MigrationRecorder.Migration.objects.filter(app="crowd", name="0015_worker_simulated").delete()
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["migrations"] == "failed: 1 not applied (crowd.0015_worker_simulated)"


def test_redis_that_does_not_answer_makes_it_not_ready() -> None:
    with override_settings(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_OPERATION_TIMEOUT=1
    ):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("failed: ")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.redis
def test_redis_that_answers_is_ok() -> None:
    with override_settings(REDIS_URL=require_redis()):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"
