"""`/readyz`: whether this process should be sent traffic (docs/operations.md, "Health checks").

`/healthz` says the process answers and its database does; `/readyz` is what a load balancer
or Kubernetes' readiness probe asks before sending a worker here. It checks, each within a
few seconds:

- the database answers (`SELECT 1`);
- every migration this code knows is applied (a new version started before `migrate` ran is
  not ready; once all are applied the answer is kept, since they are never unapplied);
- Redis answers `PING`, when the platform uses it (`REDIS_URL`, for the channel layer and
  the cache); without it the check says "not used".

200 with `{"ready": true, "checks": {...}}` when all hold; otherwise 503 with the same
shape and, for each failed check, what failed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

_migrations_applied = False


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        lines = str(exc).strip().splitlines()
        return f"failed: {type(exc).__name__}: {lines[0] if lines else ''}"
    return "ok"


def _migrations() -> str:
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return f"failed: {type(exc).__name__}"
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        more = f" and {len(plan) - 5} more" if len(plan) > 5 else ""
        return f"failed: {len(plan)} not applied ({names}{more})"
    _migrations_applied = True
    return "ok"


def _redis() -> str:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return "not used"
    import redis

    timeout = settings.REDIS_OPERATION_TIMEOUT
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return f"failed: {type(exc).__name__}"
    return "ok"


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    checks["migrations"] = _migrations() if checks["database"] == "ok" else "not checked"
    checks["redis"] = _redis()
    ready = all(value in ("ok", "not used") for value in checks.values())
    return JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)


def forget_migrations() -> None:
    """Check the migrations again on the next request (tests, after changing the database)."""
    global _migrations_applied
    _migrations_applied = False
