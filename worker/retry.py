"""Background flows (post-user-registration, post-change-password): retries, then dead letters.

Nobody waits for these, so a failed attempt is retried with exponential backoff through a
delayed zset that every worker promotes into the job stream once a second; after the last
attempt the job goes to the dead-letter stream and the tenant's dead-letter list.
"""
from __future__ import annotations

import dataclasses
from importlib import resources
from typing import Any

import msgpack
import redis.asyncio as aioredis

from runtime import keys
from runtime.jobs import Job, now_ms

TENANT_DEAD_LETTERS_KEPT = 1000
PROMOTE_BATCH = 100

_PROMOTE = resources.files("worker").joinpath("promote.lua").read_text()


def backoff_ms(attempt: int, base_s: float) -> int:
    """Delay before attempt `attempt + 1`: base, 2x base, 4x base, ..."""
    return int(base_s * 1000 * 2 ** (attempt - 1))


def next_attempt(job: Job, base_s: float, budget_s: float) -> tuple[Job, int]:
    """The retry of `job` and the epoch ms it becomes due."""
    due = now_ms() + backoff_ms(job.attempt, base_s)
    return dataclasses.replace(job, attempt=job.attempt + 1,
                               deadline_ms=due + int(budget_s * 1000)), due


def queue_retry(pipe: Any, job: Job, due_ms: int) -> None:
    pipe.zadd(keys.DELAYED, {job.encode(): due_ms})


def queue_dead_letter(pipe: Any, job: Job, result: dict[str, Any], reason: str) -> None:
    letter = msgpack.packb({
        "execution_id": job.id, "trigger": job.trigger, "attempts": job.attempt,
        "reason": reason, "error": failure_of(result), "failed_at_ms": now_ms(),
    }, use_bin_type=True)
    pipe.xadd(keys.DEAD, {"job": job.encode(), "reason": reason}, maxlen=10_000, approximate=True)
    pipe.lpush(keys.tenant_dead(job.tenant), letter)
    pipe.ltrim(keys.tenant_dead(job.tenant), 0, TENANT_DEAD_LETTERS_KEPT - 1)


def failure_of(result: dict[str, Any]) -> dict[str, Any] | None:
    """The error that failed a flow: the flow's own, else its first failing action's."""
    if result.get("error"):
        return result["error"]
    for action in result.get("actions") or []:
        if action.get("error"):
            return {"action": action.get("name"), **action["error"]}
    return None


class Promoter:
    """Moves due retries into the job stream (atomic Lua; any worker may run it)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._script = redis.register_script(_PROMOTE)

    async def promote(self) -> int:
        return int(await self._script(keys=[keys.DELAYED, keys.JOBS],
                                      args=[now_ms(), PROMOTE_BATCH]))
