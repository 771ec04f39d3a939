"""The bench's environment, its migration, Django in this process and the Redis keys it leaves.

Its PostgreSQL database is a fresh one, created and dropped by bench/scratch.py's helpers.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable

from bench.common import log
from devtools.manage import run_manage


def server_environment(database_url: str, redis_url: str, channel_layer: str) -> dict[str, str]:
    """The environment of the server, the migration and this process's Django."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="esc_platform.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CHANNEL_LAYER=channel_layer,
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
    )
    return env


def migrate(env: dict[str, str]) -> None:
    """Migrate the bench database; ManageError (a setup failure) with the output if it fails."""
    run_manage("migrate", "--noinput", env=env, timeout=600)


def configure_django(env: dict[str, str]) -> None:
    """Configure Django in this process with the server's environment (same database, secret)."""
    os.environ.update(env)
    import django

    django.setup()


def cleanup_redis(redis_url: str, conversation_ids: Iterable[int]) -> None:
    """Delete the core layer's group keys of our conversations (pub/sub leaves nothing)."""
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=5)
        keys = [f"asgi:group:chat.conversation.{cid}" for cid in conversation_ids]
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()
    except Exception as exc:  # cleanup is best effort; the keys expire anyway
        log(f"warning: could not clean Redis group keys: {exc}")
