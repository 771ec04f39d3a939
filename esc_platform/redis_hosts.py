"""How every process connects its channel layer to Redis (one definition for settings and tests).

The listening connection stays healthy through keep-alives and health checks, not a short read
timeout (an idle subscription must not drop); a connection Redis closed while it restarted is
retried instead of failing the first publish after it. Each operation of a websocket is also
bounded by REDIS_OPERATION_TIMEOUT in chat.delivery.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def channel_layer_host(url: str, *, connect_timeout: float = 3) -> dict[str, Any]:
    """One entry of a channels-redis layer's `hosts`: the pool's connection options."""
    return {
        "address": url,
        # redis-py 8 reads with a 5 s timeout by default, which drops idle subscriptions.
        "socket_timeout": 30,
        "socket_connect_timeout": connect_timeout,
        "socket_keepalive": True,
        "health_check_interval": 10,
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.1), 3),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        # redis-py 8's default of 100 starves loads of thousands of sockets.
        "max_connections": 10000,
    }
