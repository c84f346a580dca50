"""The Redis side of a worker: read jobs in batches, run their flows, answer and ack atomically."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from runtime import keys
from runtime.jobs import FLOW, Job, encode_result, now_ms
from runtime.settings import Settings
from runtime.store.flows import load_draft
from sandbox.limits import Limits
from worker import actioncache
from worker.flow import FlowAction, run_flow
from worker.flowcache import FlowCache
from worker.pool import SandboxPool

log = logging.getLogger(__name__)

FlowRunner = Callable[..., Awaitable[dict[str, Any]]]

RESULT_STREAM_TTL_S = 300
RESULT_STREAM_MAXLEN = 10_000


def platform_failure(job: Job, message: str) -> dict[str, Any]:
    return {
        "execution_id": job.id, "trigger": job.trigger, "status": "failed", "effects": [],
        "actions": [], "error": {"class": "platform_error", "type": None, "message": message,
                                 "line": None},
    }


class Consumer:
    """Runs up to `slots` jobs at once from the shared stream under consumer name `worker_id`."""

    def __init__(self, redis: aioredis.Redis, pool: SandboxPool | None, settings: Settings,
                 worker_id: str, slots: int, flow_runner: FlowRunner = run_flow) -> None:
        self.redis = redis
        self.pool = pool
        self.flow_runner = flow_runner  # bench/ swaps in a no-op to measure the queue path alone
        self.settings = settings
        self.worker_id = worker_id
        self.slots = slots
        self.flows = FlowCache(redis)
        self._running: set[asyncio.Task[None]] = set()

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.JOBS, keys.JOBS_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        """Read and dispatch jobs until `stop` is set, then finish the jobs already taken."""
        await self._retrying(self.ensure_group)
        while not stop.is_set():
            free = self.slots - len(self._running)
            if free <= 0:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                batches = await self.redis.xreadgroup(
                    keys.JOBS_GROUP, self.worker_id, {keys.JOBS: ">"}, count=free, block=500)
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    await self._retrying(self.ensure_group)
                    continue
                raise
            except RedisError as exc:
                log.warning("reading jobs: %s; retrying", exc)
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in batches or []:
                for entry_id, fields in entries:
                    task = asyncio.create_task(self._handle(entry_id, fields))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _retrying(self, op: Any) -> None:
        while True:
            try:
                return await op()
            except RedisError as exc:
                log.warning("redis unavailable (%s); retrying", exc)
                await asyncio.sleep(0.5)

    async def _handle(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            job = Job.decode(fields[b"job"])
            rev = int(fields.get(b"rev", b"0"))
        except (KeyError, ValueError, TypeError, msgpack.UnpackException) as exc:
            log.error("dead-lettering malformed job %s: %s", entry_id, exc)
            await self._retrying(lambda: self._dead_letter(entry_id, fields, "malformed job"))
            return
        result, cache_writes = await self._execute(job, rev)
        await self._retrying(lambda: self._answer(entry_id, job, result, cache_writes))

    async def _execute(self, job: Job, rev: int) -> tuple[dict[str, Any], list[tuple[str, list]]]:
        if now_ms() >= job.deadline_ms:
            return platform_failure(job, "deadline passed before the job started"), []
        try:
            actions = await self._actions_for(job, rev)
        except RedisError as exc:
            return platform_failure(job, f"could not load the flow: {exc}"), []
        except LookupError as exc:
            return platform_failure(job, str(exc)), []
        deadline = time.monotonic() + (job.deadline_ms - now_ms()) / 1000
        limits = Limits(timeout_s=job.action_timeout_s,
                        memory_limit_bytes=self.settings.memory_limit_bytes)
        flow = await self.flow_runner(self.pool, tenant=job.tenant, trigger_id=job.trigger,
                              actions=actions, event=job.event, limits=limits,
                              deadline=deadline, handler=job.handler)
        by_name = {a.name: a.action_id for a in actions}
        writes: dict[str, list] = {}
        for effect in flow["effects"]:
            if str(effect.get("op", "")).startswith("cache."):
                writes.setdefault(by_name.get(effect.get("action"), ""), []).append(effect)
        return {"execution_id": job.id, **flow}, [(a, e) for a, e in writes.items() if a]

    async def _actions_for(self, job: Job, rev: int) -> list[FlowAction]:
        if job.kind == FLOW:
            actions = await self.flows.get(job.tenant, job.trigger, rev)
        else:
            draft = await load_draft(self.redis, job.tenant, job.action_id or "")
            code = draft["code"]
            actions = [FlowAction(
                action_id=draft["action_id"], name=draft["name"], version=None, code=code,
                code_sha256=hashlib.sha256(code.encode()).hexdigest(),
                secrets=dict(draft.get("secrets") or {}), cache={})]
        needs_cache = [a for a in actions if actioncache.uses_cache(a.code)]
        if not needs_cache:
            return actions
        pipe = self.redis.pipeline(transaction=False)
        for action in needs_cache:
            pipe.hgetall(keys.cache(job.tenant, action.action_id))
        loaded = dict(zip((a.action_id for a in needs_cache), await pipe.execute()))
        return [
            FlowAction(**{**a.__dict__, "cache": actioncache.decode_entries(loaded[a.action_id])})
            if a.action_id in loaded else a
            for a in actions
        ]

    async def _answer(self, entry_id: bytes, job: Job, result: dict[str, Any],
                      cache_writes: list[tuple[str, list]]) -> None:
        """Result, record, cache writes, in-flight release and ack in one MULTI."""
        blob = encode_result(result)
        record = encode_result({**result, "state": "final", "tenant": job.tenant,
                                "kind": job.kind, "finished_at_ms": now_ms()})
        pipe = self.redis.pipeline(transaction=True)
        if job.reply_to:
            results = keys.results(job.reply_to)
            pipe.xadd(results, {"r": blob}, maxlen=RESULT_STREAM_MAXLEN, approximate=True)
            pipe.expire(results, RESULT_STREAM_TTL_S)
        pipe.set(keys.execution(job.tenant, job.id), record, ex=self.settings.execution_ttl_s)
        for action_id, effects in cache_writes:
            actioncache.queue_writes(pipe, job.tenant, action_id, effects)
        pipe.zrem(keys.inflight(job.tenant), job.id)
        pipe.xack(keys.JOBS, keys.JOBS_GROUP, entry_id)
        pipe.xdel(keys.JOBS, entry_id)
        await pipe.execute()

    async def _dead_letter(self, entry_id: bytes, fields: dict[bytes, bytes], reason: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(keys.DEAD, {"job": fields.get(b"job", b""), "reason": reason},
                  maxlen=10_000, approximate=True)
        pipe.xack(keys.JOBS, keys.JOBS_GROUP, entry_id)
        pipe.xdel(keys.JOBS, entry_id)
        await pipe.execute()
