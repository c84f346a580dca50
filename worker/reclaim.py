"""Crash recovery: keep our own jobs fresh, take over jobs whose worker died.

Every worker touches the stream entries it is running once a second (XCLAIM JUSTID to itself:
idle time back to zero, delivery count unchanged). An entry idle for longer than CLAIM_IDLE_MS
therefore belongs to a worker that stopped touching it (killed, frozen, partitioned), and any
worker may take it with XAUTOCLAIM, which counts one more delivery.
"""
from __future__ import annotations

from importlib import resources
from typing import Any

import redis.asyncio as aioredis

from runtime import keys

TOUCH_INTERVAL_S = 1.0
FORGET_CONSUMER_IDLE_MS = 3600 * 1000  # consumers of crashed workers, once nothing is pending
CLAIM_IDLE_MS = 3000
# Deliveries after which a job counts as poison: it was taken twice and its worker died twice.
POISON_DELIVERIES = 3


async def touch(redis: aioredis.Redis, consumer: str, entry_ids: list[Any]) -> None:
    if entry_ids:
        await redis.xclaim(keys.JOBS, keys.JOBS_GROUP, consumer, 0, entry_ids, justid=True)


async def has_abandoned(redis: aioredis.Redis) -> bool:
    """Whether some job is idle long enough to be taken over (nothing is claimed)."""
    idle: Any = await redis.xpending_range(keys.JOBS, keys.JOBS_GROUP, min="-", max="+",
                                           count=1, idle=CLAIM_IDLE_MS)
    return bool(idle)


async def claim_abandoned(redis: aioredis.Redis, consumer: str, count: int
                          ) -> list[tuple[bytes, dict[bytes, bytes], int]]:
    """Take up to `count` abandoned jobs: (entry id, fields, times delivered including this one)."""
    if count <= 0:
        return []
    reply: Any = await redis.xautoclaim(keys.JOBS, keys.JOBS_GROUP, consumer, CLAIM_IDLE_MS,
                                        start_id="0-0", count=count)
    entries = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
    if not entries:
        return []
    pipe = redis.pipeline(transaction=False)
    for entry_id, _ in entries:
        pipe.xpending_range(keys.JOBS, keys.JOBS_GROUP, min=entry_id, max=entry_id, count=1)
    pending = await pipe.execute()
    claimed = []
    for (entry_id, fields), info in zip(entries, pending, strict=True):
        deliveries = int(info[0]["times_delivered"]) if info else POISON_DELIVERIES
        claimed.append((entry_id, fields, deliveries))
    return claimed


_FORGET = resources.files("worker").joinpath("forget.lua").read_text()


async def forget_dead_consumers(redis: aioredis.Redis) -> int:
    """Delete group consumers with nothing pending that have been idle for an hour."""
    script = redis.register_script(_FORGET)
    return int(await script(keys=[keys.JOBS], args=[keys.JOBS_GROUP, FORGET_CONSUMER_IDLE_MS]))
