"""Settings: the embedded default, loud failures on bad variables, and production hardening."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"))
    }
    clean.update(env)
    clean.setdefault("SQLITE_PATH", str(ROOT / "var" / "settings-check.sqlite3"))
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env() -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "esc.example.org",
    }


def test_it_runs_embedded_with_no_variables() -> None:
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);"
        "print(s.CHANNEL_LAYERS['default']['BACKEND']);"
        "print(s.CELERY_TASK_ALWAYS_EAGER)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
    ]


def test_it_switches_to_services_when_urls_are_set() -> None:
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE']);"
        "print(s.CHANNEL_LAYERS['default']['BACKEND']);"
        "print(s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['socket_timeout']);"
        "print(s.CELERY_TASK_ALWAYS_EAGER)",
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:6379/3",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/4",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "30",
        "False",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/esc"),
        ("REDIS_URL", "redis://127.0.0.1:notaport/0"),
        ("CELERY_BROKER_URL", "http://example.org"),
        ("DJANGO_DEBUG", "perhaps"),
        ("DJANGO_CONN_MAX_AGE", "ten"),
        ("CHANNEL_LAYER", "carrier-pigeon"),
    ],
)
def test_it_refuses_a_malformed_variable_naming_it(name: str, value: str) -> None:
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert f"ESC Platform configuration error: {name}=" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_refuses_the_placeholder_secret_in_production() -> None:
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_it_passes_check_deploy_with_the_documented_variables() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_pools_postgresql_connections_by_default() -> None:
    show = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default'].get('OPTIONS', {}).get('pool', {}).get('max_size'))"
    )
    pooled = manage("shell", "-v", "0", "-c", show, DATABASE_URL="postgresql://u@127.0.0.1/db")
    assert pooled.stdout.split() == ["20"], pooled.stderr
    unpooled = manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        DATABASE_URL="postgresql://u@127.0.0.1/db",
        DATABASE_POOL="false",
    )
    assert unpooled.stdout.split() == ["None"], unpooled.stderr
    both = manage(
        "check",
        DATABASE_URL="postgresql://u@127.0.0.1/db",
        DATABASE_POOL="true",
        DJANGO_CONN_MAX_AGE="60",
    )
    assert both.returncode != 0
    assert "DATABASE_POOL=true needs DJANGO_CONN_MAX_AGE=0" in both.stderr


def test_check_deploy_passes_with_csp_and_a_proxy_and_the_policy_names_the_site() -> None:
    env = {**production_env(), "DJANGO_BEHIND_PROXY": "true"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    show = (
        "from django.conf import settings as s;"
        "print('csp.middleware.CSPMiddleware' in s.MIDDLEWARE);"
        "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src']))"
    )
    shown = manage("shell", "-v", "0", "-c", show, **env)
    assert shown.stdout.splitlines() == ["True", "'self' wss://esc.example.org"], shown.stderr


def test_x_forwarded_proto_is_trusted_only_behind_a_proxy() -> None:
    code = (
        "from django.test import RequestFactory;"
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
    )
    direct = manage("shell", "-v", "0", "-c", code)
    proxied = manage("shell", "-v", "0", "-c", code, DJANGO_BEHIND_PROXY="true")
    assert (direct.stdout.strip(), proxied.stdout.strip()) == ("False", "True"), (
        direct.stderr + proxied.stderr
    )


def test_the_cache_is_redis_when_a_url_is_set_and_memory_otherwise() -> None:
    show = (
        "from django.conf import settings as s; c = s.CACHES['default'];"
        "print(c['BACKEND'], c.get('LOCATION'), c.get('KEY_PREFIX'))"
    )
    embedded = manage("shell", "-v", "0", "-c", show)
    assert embedded.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "None",
        "None",
    ], embedded.stderr
    redis = manage("shell", "-v", "0", "-c", show, REDIS_URL="redis://127.0.0.1:6379/3")
    assert redis.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/3",
        "esc:cache",
    ], redis.stderr
    own = manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        REDIS_URL="redis://127.0.0.1:6379/3",
        CACHE_URL="redis://127.0.0.1:6379/7",
    )
    assert own.stdout.split()[1] == "redis://127.0.0.1:6379/7", own.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("ENTRY_RATE_PER_IP", "lots"), ("WORKER_POST_RATE_PER_SESSION", "0/m"), ("CACHE_URL", "x")],
)
def test_a_malformed_rate_or_cache_url_stops_start_up(name: str, value: str) -> None:
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert f"ESC Platform configuration error: {name}=" in result.stderr
