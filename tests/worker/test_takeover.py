"""A taken-over job runs alone: the job whose worker died next to a poison job is not blamed.

Real redis-server and a real Consumer; the flow runner is a stand-in that only records which
jobs ran at the same time (the sandbox is not what this is about).
"""
from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from runtime import keys
from runtime.jobs import Job, now_ms
from runtime.settings import Settings
from worker import reclaim
from worker.consumer import Consumer

RUN_S = 0.4


class Overlaps:
    """For each job (named by its event), the other jobs that ran while it ran."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.seen: dict[str, set[str]] = {}

    async def flow(self, _pool: Any, *, trigger_id: str, event: dict[str, Any],
                   **_: Any) -> dict[str, Any]:
        name = event["name"]
        self.seen[name] = set(self.active)
        for other in self.active:
            self.seen[other].add(name)
        self.active.add(name)
        try:
            await asyncio.sleep(RUN_S)
        finally:
            self.active.discard(name)
        return {"trigger": trigger_id, "status": "success", "effects": [], "actions": []}


def job(name: str) -> Job:
    return Job(id=f"id-{name}", tenant="acme", trigger="post-login", event={"name": name},
               deadline_ms=now_ms() + 60_000, action_timeout_s=5)


async def test_jobs_of_a_dead_worker_are_run_one_at_a_time(aredis: aioredis.Redis) -> None:
    await aredis.xgroup_create(keys.JOBS, keys.JOBS_GROUP, id="0", mkstream=True)
    for name in ("orphan-1", "orphan-2"):
        await aredis.xadd(keys.JOBS, {"job": job(name).encode()})
    taken: Any = await aredis.xreadgroup(keys.JOBS_GROUP, "dead-worker", {keys.JOBS: ">"}, count=2)
    orphans = [entry_id for entry_id, _ in taken[0][1]]
    # As if "dead-worker" had stopped touching them long ago.
    await aredis.xclaim(keys.JOBS, keys.JOBS_GROUP, "dead-worker", 0, orphans, justid=True,
                        idle=reclaim.CLAIM_IDLE_MS * 2)
    fresh = [f"fresh-{i}" for i in range(6)]
    for name in fresh:
        await aredis.xadd(keys.JOBS, {"job": job(name).encode()})

    overlaps = Overlaps()
    consumer = Consumer(aredis, None, Settings(), "live-worker", slots=3, flow_runner=overlaps.flow)
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        async with asyncio.timeout(40):
            while len(overlaps.seen) < 8 or overlaps.active:
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await running

    assert set(overlaps.seen) == {"orphan-1", "orphan-2", *fresh}
    assert overlaps.seen["orphan-1"] == set() and overlaps.seen["orphan-2"] == set()
    # The fresh jobs still share the worker's slots among themselves.
    assert any(overlaps.seen[name] for name in fresh)
    for name in ("orphan-1", "orphan-2", *fresh):
        assert await aredis.exists(keys.execution("acme", f"id-{name}")), name
    assert await aredis.xpending(keys.JOBS, keys.JOBS_GROUP) == {
        "pending": 0, "min": None, "max": None, "consumers": []}
