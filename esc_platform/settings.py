"""ESC Platform settings: one module, driven by environment variables.

With no variables set, everything is embedded (SQLite, the in-memory channel
layer, eager Celery) so `make run` needs no server. DATABASE_URL, REDIS_URL and
CELERY_BROKER_URL switch to PostgreSQL, channels-redis and a real broker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from esc_platform.env import (
    ImproperEnvironment,
    env_bool,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_url,
)
from esc_platform.origins import OriginError, normalise_origin, origins_from_hosts, websocket_urls
from esc_platform.redis_hosts import channel_layer_host

BASE_DIR = Path(__file__).resolve().parent.parent

PLACEHOLDER_SECRET = "dev-only-insecure-secret-change-me"

try:
    DEBUG = env_bool("DJANGO_DEBUG", True)
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", PLACEHOLDER_SECRET)
    if not DEBUG and (SECRET_KEY == PLACEHOLDER_SECRET or len(SECRET_KEY) < 50):
        raise ImproperEnvironment(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
            "when DJANGO_DEBUG=False (the placeholder is refused in production)"
        )

    ALLOWED_HOSTS = env_list(
        "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"]
    )
    CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
    # Behind a reverse proxy (TLS ends there): trust its X-Forwarded-Proto and X-Forwarded-For.
    # Off, a client talking to uvicorn directly could claim HTTPS or another address.
    BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
    # The site's origins, which alone may open websockets (esc_platform/origins.py). Unset: in
    # debug the development server's addresses plus, for a server on any other port, the
    # socket's own origin (its Host, an allowed host); in production https://<host> for each
    # plain DJANGO_ALLOWED_HOSTS name.
    _site_origins = env_list("DJANGO_SITE_ORIGINS", [])
    try:
        SITE_ORIGINS = [normalise_origin(origin) for origin in _site_origins]
    except OriginError as exc:
        raise ImproperEnvironment(f"DJANGO_SITE_ORIGINS: {exc}") from None
    if not SITE_ORIGINS:
        SITE_ORIGINS = (
            [normalise_origin(f"http://{host}:8000") for host in ("127.0.0.1", "localhost")]
            if DEBUG
            else origins_from_hosts(ALLOWED_HOSTS)
        )
    SITE_ORIGIN_FROM_HOST = DEBUG and not _site_origins
    # Entry links accepted per client address (a class behind one university address shares
    # it), and tutorial answers / survey posts per worker session; "<count>/<period>" with the
    # period s, m, h or d ("60/m", "1000/h").
    ENTRY_RATE_PER_IP = env_rate("ENTRY_RATE_PER_IP", "60/m")
    # ...and at most this many at once, so a flood's allowance does not land in one second.
    ENTRY_BURST_PER_IP = env_rate("ENTRY_BURST_PER_IP", "15/10s")
    WORKER_POST_RATE_PER_SESSION = env_rate("WORKER_POST_RATE_PER_SESSION", "120/m")

    DATABASE_URL = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
    REDIS_URL = env_url("REDIS_URL", {"redis", "rediss", "unix"})
    CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", {"redis", "rediss", "amqp", "memory"})
    CHANNEL_LAYER_KIND = env_str("CHANNEL_LAYER", "pubsub")
    if CHANNEL_LAYER_KIND not in {"pubsub", "core"}:
        raise ImproperEnvironment(f"CHANNEL_LAYER={CHANNEL_LAYER_KIND!r} must be pubsub or core")
    SQLITE_PATH = env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
    CONN_MAX_AGE = env_int("DJANGO_CONN_MAX_AGE", 0, minimum=0)
    # A psycopg connection pool per server process (PostgreSQL only). Channels closes the
    # connection after every database call, so without a pool each chat message pays for a
    # new PostgreSQL connection (measured by bench/chat_load.py).
    DATABASE_POOL = env_bool("DATABASE_POOL", CONN_MAX_AGE == 0)
    DATABASE_POOL_MAX = env_int("DATABASE_POOL_MAX", 20, minimum=1)
    # Chat messages on PostgreSQL use a pool of async connections of their own (chat.live_store).
    DATABASE_ASYNC_POOL_MAX = env_int("DATABASE_ASYNC_POOL_MAX", 10, minimum=1)
    if DATABASE_POOL and CONN_MAX_AGE:
        raise ImproperEnvironment(
            "DATABASE_POOL=true needs DJANGO_CONN_MAX_AGE=0 (the pool keeps the connections)"
        )
    # Which kind of process this is: the ASGI module sets "web" before settings load. Web
    # processes give the database and Redis a few seconds, so a partition behind a healthy
    # socket becomes an error frame; migrations, commands and batch jobs wait as long as needed.
    PROCESS_KIND = env_str("ESC_PROCESS_KIND", "batch")
    if PROCESS_KIND not in {"web", "batch"}:
        raise ImproperEnvironment(f"ESC_PROCESS_KIND={PROCESS_KIND!r} must be web or batch")
    WEB = PROCESS_KIND == "web"
    DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5 if WEB else 30, minimum=1)
    # 0 = no limit. Also bounds how long unacknowledged data may wait on the socket.
    DATABASE_STATEMENT_TIMEOUT_MS = env_int(
        "DATABASE_STATEMENT_TIMEOUT_MS", 5000 if WEB else 0, minimum=0
    )
    REDIS_OPERATION_TIMEOUT = env_int("REDIS_OPERATION_TIMEOUT", 3, minimum=1)
    ESCONV_EXPORT_DIR = Path(env_str("ESCONV_EXPORT_DIR", str(BASE_DIR / "var" / "releases")))
    # The Django cache (rate-limit counters): Redis when a URL is set, else in-process memory.
    CACHE_URL = env_url("CACHE_URL", {"redis", "rediss", "unix"}) or REDIS_URL
    SESSION_CLEANUP_SECONDS = env_int("SESSION_CLEANUP_SECONDS", 6 * 60 * 60, minimum=60)
except ImproperEnvironment as exc:
    # Stop start-up with one line naming the variable rather than a traceback.
    raise SystemExit(f"ESC Platform configuration error: {exc}") from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "crowd",
    "tutorial",
    "surveys",
    "chat",
    "quality",
    "analytics",
    "safety",
    "evaluation",
    "authenticity",
    "settlement",
    "staff",
    "rehearsal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "esc_platform.urls"
ASGI_APPLICATION = "esc_platform.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crowd.context_processors.demo_run",
                "crowd.context_processors.admin_runs",
            ],
        },
    },
]


def _postgresql_options() -> dict[str, Any]:
    """Timeouts and keep-alives: a dead link to the database fails in seconds, not minutes."""
    options: dict[str, Any] = {
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
    }
    if DATABASE_STATEMENT_TIMEOUT_MS:
        options["options"] = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
        options["tcp_user_timeout"] = DATABASE_STATEMENT_TIMEOUT_MS
    if DATABASE_POOL:
        options["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_MAX,
            "timeout": DATABASE_CONNECT_TIMEOUT,
        }
    return options


if DATABASE_URL:
    # Health checks: a pooled (or persistent) connection is checked before it is used, so one
    # the database dropped (restart, pg_terminate_backend) is replaced instead of failing a call.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {}).update(_postgresql_options())
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            # A file name for the test database: Channels' live server refuses in-memory SQLite.
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(BASE_DIR / "var" / "test.sqlite3"))},
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds rate-limit counters, which every server process must share: Redis when a
# URL is set (keys under "esc:cache:" so they never meet the channel layer's or Celery's),
# otherwise memory inside the one embedded process.
CACHES: dict[str, Any]
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "esc:cache",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_OPERATION_TIMEOUT,
                "socket_timeout": REDIS_OPERATION_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CHANNEL_LAYERS: dict[str, Any]
if REDIS_URL:
    layer_backend = (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
        if CHANNEL_LAYER_KIND == "pubsub"
        else "channels_redis.core.RedisChannelLayer"
    )
    # Connection options (timeouts, keep-alives, retries, pool size): esc_platform/redis_hosts.py.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": layer_backend,
            "CONFIG": {
                "hosts": [channel_layer_host(REDIS_URL, connect_timeout=REDIS_OPERATION_TIMEOUT)],
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery: eager (in-process) unless a broker is configured.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL_EFFECTIVE = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged when it has finished, and one whose pool process died (SIGKILL, the
# OOM killer) goes back to the queue instead of being acknowledged as failed: every task is
# safe to run twice (docs/operations.md, "Periodic jobs").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# When a whole worker dies, the Redis broker hands its unacknowledged task to another worker
# after this many seconds (kombu's default is an hour). Every task here finishes in well under
# it (quality control commits chunk by chunk), so none is handed out twice while it still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 900, minimum=60)
}
# The periodic jobs. Celery beat runs this schedule when a broker is configured; without one,
# the web server runs the very same entries itself when EMBEDDED_SCHEDULER is on (`make run`
# sets it; esc_platform/scheduler.py). Each entry's schedule is in seconds.
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", False)
CELERY_BEAT_SCHEDULE: dict[str, Any] = {}
# Nobody waits forever: match and release stale waiting-room workers even when no page polls.
CELERY_BEAT_SCHEDULE["chat-release-stale-waiting"] = {
    "task": "chat.tasks.release_stale_waiting_workers",
    "schedule": float(env_int("CHAT_RELEASE_STALE_WAITING_SECONDS", 30, minimum=1)),
}
# What a crowd site's webhook missed: returned and timed-out submissions (settlement.sync).
CELERY_BEAT_SCHEDULE["crowd-sites-sync"] = {
    "task": "settlement.sync_crowd_sites",
    "schedule": float(env_int("CROWD_SITE_SYNC_SECONDS", 120, minimum=10)),
}
CELERY_BEAT_SCHEDULE["chat-end-abandoned"] = {
    "task": "chat.tasks.end_abandoned_conversations",
    "schedule": float(env_int("CHAT_END_ABANDONED_SECONDS", 60, minimum=1)),
}
# The chat page pings every CHAT_HEARTBEAT_SECONDS; the server drops a socket it has not heard
# from for CHAT_HEARTBEAT_TIMEOUT_SECONDS (the partner is told), and a ping at most every
# CHAT_SYNC_SECONDS also reads the conversation to catch up on anything a relay lost.
CHAT_HEARTBEAT_SECONDS = env_int("CHAT_HEARTBEAT_SECONDS", 5, minimum=1)
CHAT_HEARTBEAT_TIMEOUT_SECONDS = env_int("CHAT_HEARTBEAT_TIMEOUT_SECONDS", 12, minimum=2)
CHAT_SYNC_SECONDS = env_int("CHAT_SYNC_SECONDS", 15, minimum=1)
# Caps on the chat websocket (docs/protocol.md, "Limits"; chat/limits.py). Each socket may send
# a burst of CHAT_MAX_FRAMES_BURST frames, then CHAT_MAX_FRAMES_PER_SECOND a second; a frame
# over that is dropped with a retryable `rate_limited` error, the socket stays open. One worker
# holds at most CHAT_MAX_SOCKETS_PER_WORKER chat sockets across all server processes (counted
# in the Django cache); one more is closed with 4429. A conversation takes at most
# CHAT_MAX_MESSAGES_PER_CONVERSATION messages (then `too_many_messages`). A socket's typing
# frames reach the partner at most once every CHAT_TYPING_RELAY_SECONDS; the rest are dropped.
CHAT_MAX_FRAMES_BURST = env_int("CHAT_MAX_FRAMES_BURST", 20, minimum=1)
CHAT_MAX_FRAMES_PER_SECOND = env_int("CHAT_MAX_FRAMES_PER_SECOND", 10, minimum=1)
CHAT_MAX_SOCKETS_PER_WORKER = env_int("CHAT_MAX_SOCKETS_PER_WORKER", 8, minimum=1)
CHAT_MAX_MESSAGES_PER_CONVERSATION = env_int("CHAT_MAX_MESSAGES_PER_CONVERSATION", 400, minimum=1)
CHAT_TYPING_RELAY_SECONDS = env_int("CHAT_TYPING_RELAY_SECONDS", 2, minimum=0)
QUALITY_CONTROL_INTERVAL_SECONDS = env_int("QUALITY_CONTROL_INTERVAL_SECONDS", 600, minimum=10)
# Conversations judged per transaction (at most 500: every IN (...) list stays well under
# SQLite's limit). A crash loses at most one chunk's work, which the next run redoes.
QUALITY_CONTROL_CHUNK_SIZE = min(env_int("QUALITY_CONTROL_CHUNK_SIZE", 500, minimum=1), 500)
# Judge newly ended conversations, then write a release of the approved set
# (docs/quality.md, "The quality-control job").
CELERY_BEAT_SCHEDULE["quality-control"] = {
    "task": "quality.run_quality_control",
    "schedule": float(QUALITY_CONTROL_INTERVAL_SECONDS),
}

# Dataset analytics (docs/analytics.md): a run of at most this many conversations has its report
# computed when the staff page asks; larger runs by the Celery task, and every
# ANALYTICS_REFRESH_SECONDS for the active runs whose set changed.
ANALYTICS_SYNC_LIMIT = env_int("ANALYTICS_SYNC_LIMIT", 5000, minimum=0)
ANALYTICS_REFRESH_SECONDS = env_int("ANALYTICS_REFRESH_SECONDS", 1800, minimum=60)
CELERY_BEAT_SCHEDULE["analytics-refresh-reports"] = {
    "task": "analytics.refresh_reports",
    "schedule": float(ANALYTICS_REFRESH_SECONDS),
}

# Expired sessions (abandoned browsers, one per entry link) are deleted with Django's own
# clearsessions logic, so the table does not grow for ever (crowd/tasks.py).
CELERY_BEAT_SCHEDULE["crowd-clear-expired-sessions"] = {
    "task": "crowd.tasks.clear_expired_sessions",
    "schedule": float(SESSION_CLEANUP_SECONDS),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies with bounded nesting and number sizes (esc_platform/safe_json.py): a body
    # of "[[[[..." is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["esc_platform.safe_json.JSONBodyParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ESC Platform API",
    "DESCRIPTION": "Worker-facing and staff API of the emotional-support collection platform.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/schema/ describes staff endpoints too: staff only (log in at /admin/ first).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
}

# Production hardening; every value passes `manage.py check --deploy` with DEBUG off.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if BEHIND_PROXY:
    # Only a proxy that sets (and overwrites) X-Forwarded-Proto may be trusted with it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

# Content-Security-Policy (django-csp): our own scripts, styles and images only, no inline
# code, websockets to the site, never framed. Every page passes it (tests/platform/
# test_csp_browser.py walks them in Chromium), the Django admin included.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *websocket_urls(SITE_ORIGINS)],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Rate limits (django-ratelimit, esc_platform/ratelimits.py) count in the default cache, by the
# client address of esc_platform.ratelimits.client_ip (REMOTE_ADDR, or behind a proxy the
# address it saw) or by session.
RATELIMIT_IP_META_KEY = "esc_platform.ratelimits.client_ip"
RATELIMIT_CACHE_PREFIX = "ratelimit:"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Their INFO lines name every URL called, with crowd sites' submission ids in them.
    "loggers": {name: {"level": "WARNING"} for name in ("httpx", "httpcore", "botocore")},
}

# Safety alerts that leave the platform (safety/alerts.py; docs/operations.md, "Safety alerts
# by email and webhook"): an email to SAFETY_ALERT_EMAILS and/or a JSON POST to
# SAFETY_ALERT_WEBHOOK_URL for every safety flag; both off when empty. SITE_URL is the public
# base of the links in an alert. Mail goes through Django's backend: SMTP when EMAIL_HOST is
# set, otherwise the console (the embedded default has no mail server). The password is read
# here only; nothing logs it.
try:
    SITE_URL = (env_url("SITE_URL", {"http", "https"}) or "http://127.0.0.1:8000").rstrip("/")
    # Off only to measure what live screening costs (bench/chat_load.py); the quality job
    # still screens every conversation before judging it.
    SAFETY_LIVE_SCREENING = env_bool("SAFETY_LIVE_SCREENING", True)
    SAFETY_ALERT_EMAILS = env_list("SAFETY_ALERT_EMAILS", [])
    for _address in SAFETY_ALERT_EMAILS:
        if "@" not in _address:
            raise ImproperEnvironment(f"SAFETY_ALERT_EMAILS: {_address!r} is not an email address")
    SAFETY_ALERT_WEBHOOK_URL = env_url("SAFETY_ALERT_WEBHOOK_URL", {"http", "https"}) or ""
    SAFETY_ALERT_WEBHOOK_SECRET = env_str("SAFETY_ALERT_WEBHOOK_SECRET", "")
    SAFETY_ALERT_TIMEOUT_SECONDS = env_int("SAFETY_ALERT_TIMEOUT_SECONDS", 5, minimum=1)
    _email_host = env_str("EMAIL_HOST", "")
    EMAIL_HOST = _email_host or "localhost"
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperEnvironment("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
    EMAIL_BACKEND = env_str(
        "EMAIL_BACKEND",
        "django.core.mail.backends.smtp.EmailBackend"
        if _email_host
        else "django.core.mail.backends.console.EmailBackend",
    )
    DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "esc-platform@localhost")
except ImproperEnvironment as exc:
    raise SystemExit(f"ESC Platform configuration error: {exc}") from None

# The crowd sites' APIs (crowd.providers; docs/crowd-sites.md). Base URLs are settings so that
# tests point them at local servers; credentials come from the environment only and are read
# here, never stored in the database, shown in the admin or logged. PROLIFIC_API_TOKEN is a
# Prolific API token; MTurk takes AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (boto3 reads them
# itself). MTURK_ENDPOINT_URL, when empty, is the sandbox or production endpoint by the run's
# mturk_sandbox setting.
try:
    PROLIFIC_API_URL = (
        env_url("PROLIFIC_API_URL", {"http", "https"}) or "https://api.prolific.com/api/v1/"
    )
    PROLIFIC_API_TOKEN = env_str("PROLIFIC_API_TOKEN", "")
    # The participant group used as a blocklist filter on the lab's studies (blocking adds to it).
    PROLIFIC_BLOCK_GROUP = env_str("PROLIFIC_BLOCK_GROUP", "")
    # The workspace's webhook secret (POST /hooks/secrets/): signs every webhook call.
    PROLIFIC_WEBHOOK_SECRET = env_str("PROLIFIC_WEBHOOK_SECRET", "")
    MTURK_ENDPOINT_URL = env_url("MTURK_ENDPOINT_URL", {"http", "https"}) or ""
    MTURK_REGION = env_str("MTURK_REGION", "us-east-1")
    # Seconds before a call to a crowd site counts as unanswered.
    CROWD_SITE_TIMEOUT_SECONDS = env_int("CROWD_SITE_TIMEOUT_SECONDS", 20, minimum=1)
except ImproperEnvironment as exc:
    raise SystemExit(f"ESC Platform configuration error: {exc}") from None
