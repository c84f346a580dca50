"""Consumers of crashed workers are forgotten once idle and empty; busy ones never are."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from runtime import keys
from worker import reclaim


async def test_only_idle_empty_consumers_are_deleted(aredis: aioredis.Redis,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    await aredis.xgroup_create(keys.JOBS, keys.JOBS_GROUP, id="0", mkstream=True)
    await aredis.xadd(keys.JOBS, {"job": b"x"})
    await aredis.xreadgroup(keys.JOBS_GROUP, "holds-a-job", {keys.JOBS: ">"}, count=1)
    await aredis.xgroup_createconsumer(keys.JOBS, keys.JOBS_GROUP, "crashed-empty")
    monkeypatch.setattr(reclaim, "FORGET_CONSUMER_IDLE_MS", 0)
    await asyncio.sleep(0.01)
    assert await reclaim.forget_dead_consumers(aredis) == 1
    names = {c["name"] for c in await aredis.xinfo_consumers(keys.JOBS, keys.JOBS_GROUP)}
    assert names == {b"holds-a-job"}
