"""Optimistic transactions: WATCH the keys read, then MULTI/EXEC the writes, retrying on races."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from runtime.errors import ApiError

T = TypeVar("T")
MAX_ATTEMPTS = 20


async def transact(
    redis: Redis, watch: Sequence[str], body: Callable[[Pipeline], Awaitable[T]]
) -> T:
    """Run `body` with `watch` WATCHed; it reads through the pipe, calls `pipe.multi()`,
    queues its writes and returns a value. Retried when a watched key changed under it;
    409 "conflict" after MAX_ATTEMPTS lost races (a hot key under heavy concurrent edits).
    """
    for _ in range(MAX_ATTEMPTS):
        async with redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(*watch)
                result = await body(pipe)
                await pipe.execute()
                return result
            except WatchError:
                continue
    raise ApiError(409, "conflict", "concurrent modification; retry the request")
