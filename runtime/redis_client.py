"""The one way every process connects to Redis, and how long its blocking reads may wait."""
from __future__ import annotations

import redis.asyncio as aioredis

from runtime.errors import ConfigError
from runtime.settings import Settings

READ_BLOCK_MS = 1000  # the longest a blocking read (XREAD, XREADGROUP) waits


def connect(settings: Settings) -> aioredis.Redis:
    """The process's Redis client (a connection pool): bounded socket waits.

    health_check_interval=0: redis-py otherwise PINGs before commands on idle connections, a
    measurable cost on the hot path; the timeouts bound every call instead.
    """
    if settings.redis_url is None:
        raise ConfigError("ACTIONS_REDIS_URL", "", "is required here; `actions-runtime serve` "
                          "starts an embedded redis-server when it is unset")
    return aioredis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=settings.redis_socket_timeout_s,
        health_check_interval=0,
    )


def read_block_ms(redis: aioredis.Redis) -> int:
    """How long a blocking read may block: well inside the client's socket timeout.

    redis-py applies the socket timeout to blocking reads too, so a block as long as the
    timeout ends in a TimeoutError and a reconnect instead of an empty reply.
    """
    timeout_s = redis.connection_pool.connection_kwargs.get("socket_timeout")
    if not timeout_s:
        return READ_BLOCK_MS
    return max(10, min(READ_BLOCK_MS, int(timeout_s * 1000 / 2)))
