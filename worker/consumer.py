"""The Redis side of a worker: read jobs in batches, run their flows, answer and ack atomically."""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import BusyLoadingError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runtime import keys
from runtime.errors import ApiError
from runtime.jobs import CONTINUE, FLOW, Job, encode_result, now_ms
from runtime.redis_client import read_block_ms
from runtime.settings import Settings
from runtime.store import continuations
from runtime.store.flows import load_draft, load_pinned
from sandbox.limits import Limits
from sandbox.triggers import TRIGGERS
from worker import actioncache, reclaim, retry
from worker.answers import AnswerBatcher
from worker.egress import Egress, with_egress
from worker.failure_policy import apply_failure_policy
from worker.flow import FlowAction, Resume, run_flow
from worker.flowcache import FlowCache, to_flow_action
from worker.pool import SandboxPool

log = logging.getLogger(__name__)

FlowRunner = Callable[..., Awaitable[dict[str, Any]]]

ALONE_POLL_S = 0.05  # how often a worker that waits to run a taken-over job alone looks again
RESULT_STREAM_TTL_S = 300
RESULT_STREAM_MAXLEN = 10_000


def platform_failure(job: Job, message: str) -> dict[str, Any]:
    return {
        "execution_id": job.id, "trigger": job.trigger, "status": "failed", "effects": [],
        "actions": [], "error": {"class": "platform_error", "type": None, "message": message,
                                 "line": None},
    }


def resume_of(job: Job) -> Resume | None:
    """Where a CONTINUE job picks its paused flow up (the gateway copied it from the store)."""
    if job.kind != CONTINUE or not job.resume:
        return None
    return Resume(position=int(job.resume["position"]), effects=list(job.resume["effects"]),
                  records=list(job.resume["records"]))


class Consumer:
    """Runs up to `slots` jobs at once from the shared stream under consumer name `worker_id`."""

    def __init__(self, redis: aioredis.Redis, pool: SandboxPool | None, settings: Settings,
                 worker_id: str, slots: int, flow_runner: FlowRunner = run_flow) -> None:
        self.redis = redis
        self.pool = pool
        # bench/ swaps in a no-op flow runner to measure the queue path alone. Each flow run
        # gets its own egress scope: its fetch() requests, session and count.
        self.flow_runner = with_egress(flow_runner, Egress.for_worker(redis, settings))
        self.settings = settings
        self.worker_id = worker_id
        self.slots = slots
        self.flows = FlowCache(redis)
        self.answers = AnswerBatcher(redis)
        self.read_block_ms = min(500, read_block_ms(redis))  # inside the socket timeout
        self._running: dict[asyncio.Task[None], bytes] = {}  # each running job's stream entry
        # A taken-over job runs alone, and while abandoned jobs wait we take no new ones: see
        # _take_over. Otherwise a job whose worker died next to a poison job twice would be
        # dead-lettered as poison with it.
        self._alone: asyncio.Task[None] | None = None
        self._draining = False

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.JOBS, keys.JOBS_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        """Read and dispatch jobs until `stop` is set, then finish the jobs already taken."""
        await self._retrying(self.ensure_group)
        upkeep = asyncio.create_task(self._upkeep(stop), name="reclaim")
        while not stop.is_set():
            if self._draining or (self._alone is not None and not self._alone.done()):
                await asyncio.sleep(ALONE_POLL_S)
                continue
            free = self.slots - len(self._running)
            if free <= 0:
                await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                batches: Any = await self.redis.xreadgroup(
                    keys.JOBS_GROUP, self.worker_id, {keys.JOBS: ">"}, count=free,
                    block=self.read_block_ms)
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
                    self._start(entry_id, fields)
        upkeep.cancel()
        while self._running:
            # Keep touching the jobs we finish so nobody takes them over meanwhile.
            await asyncio.wait(set(self._running), timeout=reclaim.TOUCH_INTERVAL_S)
            await self._touch()
        await self.answers.close()
        try:
            await self.redis.xgroup_delconsumer(keys.JOBS, keys.JOBS_GROUP, self.worker_id)
        except RedisError:
            pass

    async def _touch(self) -> bool:
        try:
            await reclaim.touch(self.redis, self.worker_id, list(self._running.values()))
        except RedisError as exc:
            log.warning("touching running jobs: %s", exc)
            return False
        return True

    async def _upkeep(self, stop: asyncio.Event) -> None:
        """Once a second: touch our running jobs, promote due retries, take over abandoned jobs."""
        promoter = retry.Promoter(self.redis)
        ticks = healthy = 0
        while not stop.is_set():
            await asyncio.sleep(reclaim.TOUCH_INTERVAL_S)
            ticks += 1
            # After Redis was unreachable (restart, freeze) every job looks idle; claim only
            # once each live worker has had a full interval to touch its own again.
            healthy = healthy + 1 if await self._touch() else 0
            try:
                await promoter.promote()
                if ticks % 60 == 0:
                    await reclaim.forget_dead_consumers(self.redis)
                if healthy >= 2:
                    await self._take_over()
            except RedisError as exc:
                log.warning("upkeep: %s", exc)
                healthy = 0
                self._draining = False
                continue

    async def _take_over(self) -> None:
        """Take one abandoned job once we run nothing, and run it alone.

        A job is taken over because its worker died. If it ran next to other jobs, any of
        them may have killed the worker, so its next run has no neighbour: a death then is
        its own, and only a job that died alone reaches the poison count. Until we are idle
        we take no new jobs (`_draining`), so a busy worker still gets there.
        """
        if self._alone is not None and not self._alone.done():
            return
        if self._running:
            self._draining = await reclaim.has_abandoned(self.redis)
            return
        claimed = await reclaim.claim_abandoned(self.redis, self.worker_id, 1)
        self._draining = False
        for entry_id, fields, deliveries in claimed:
            log.warning("took over job %s (delivery %d)", entry_id, deliveries)
            task = self._start(entry_id, fields, poison=deliveries >= reclaim.POISON_DELIVERIES)
            self._alone = task

    def _start(self, entry_id: bytes, fields: dict[bytes, bytes],
               poison: bool = False) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guarded(entry_id, fields, poison))
        self._running[task] = entry_id
        task.add_done_callback(lambda t: self._running.pop(t, None))
        return task

    async def _retrying(self, op: Any) -> None:
        """Run `op` until Redis takes it: outages are waited out, never fatal."""
        while True:
            try:
                return await op()
            except (ConnectionError, TimeoutError, RedisConnectionError, RedisTimeoutError,
                    BusyLoadingError, ReadOnlyError) as exc:
                log.warning("redis unavailable (%s); retrying", exc)
                await asyncio.sleep(0.5)

    async def _guarded(self, entry_id: bytes, fields: dict[bytes, bytes], poison: bool) -> None:
        """A job that fails here stays pending: another worker takes it over (and dead-letters
        it on the third delivery), so a bug costs one job, never the worker."""
        try:
            await self._handle(entry_id, fields, poison)
        except Exception:
            log.exception("job %s failed in the worker; left for reclaim", entry_id)

    async def _handle(self, entry_id: bytes, fields: dict[bytes, bytes], poison: bool) -> None:
        try:
            job = Job.decode(fields[b"job"])
            rev = int(fields.get(b"rev", b"0"))
        except (KeyError, ValueError, TypeError, msgpack.UnpackException) as exc:
            log.error("dead-lettering malformed job %s: %s", entry_id, exc)
            await self._retrying(lambda: self._dead_letter(entry_id, fields, "malformed job"))
            return
        if poison:
            log.error("dead-lettering job %s of tenant %s: its workers died twice", job.id, job.tenant)
            cache_writes: list[tuple[str, list]] = []
            result = platform_failure(
                job, "the job was dead-lettered: running it killed its worker twice")
        else:
            result, cache_writes = await self._execute(job, rev)
        pause = result.pop("pause", None)  # the paused flow's state: stored, never answered
        result = apply_failure_policy(result, job.on_error)
        await self._retrying(lambda: self._answer(entry_id, job, result, cache_writes, poison,
                                                  pause))

    async def _execute(self, job: Job, rev: int) -> tuple[dict[str, Any], list[tuple[str, list]]]:
        if now_ms() >= job.deadline_ms:
            return platform_failure(job, "deadline passed before the job started"), []
        try:
            actions = await self._actions_for(job, rev)
        except RedisError as exc:
            return platform_failure(job, f"could not load the flow: {exc}"), []
        except ApiError as exc:  # e.g. the action of a test run was deleted meanwhile
            return platform_failure(job, exc.message), []
        deadline = time.monotonic() + (job.deadline_ms - now_ms()) / 1000
        limits = Limits(timeout_s=job.action_timeout_s,
                        memory_limit_bytes=self.settings.memory_limit_bytes)
        resume = resume_of(job)
        flow = await self.flow_runner(self.pool, tenant=job.tenant, trigger_id=job.trigger,
                                      actions=actions, event=job.event, limits=limits,
                                      deadline=deadline, handler=job.handler,
                                      resume=resume)
        # Cache effects are applied here, never answered; those of the segment before a pause
        # (the first effects of a resumed flow) were applied when it paused.
        returned, cache_ops = actioncache.split_cache_ops(flow["effects"])
        _, new_cache_ops = actioncache.split_cache_ops(
            flow["effects"][len(resume.effects) if resume else 0:])
        by_name = {a.name: a.action_id for a in actions}
        writes: dict[str, list] = {}
        for effect in new_cache_ops:
            writes.setdefault(by_name.get(str(effect.get("action")), ""), []).append(effect)
        result = {"execution_id": job.id, **flow, "effects": returned,
                  "cache_operations": [actioncache.operation_summary(e) for e in cache_ops]}
        return result, [(a, e) for a, e in writes.items() if a]

    async def _actions_for(self, job: Job, rev: int) -> list[FlowAction]:
        if job.kind == FLOW:
            actions = await self.flows.get(job.tenant, job.trigger, rev)
        elif job.kind == CONTINUE:  # the versions the flow paused with, never newer ones
            pinned = await load_pinned(self.redis, job.tenant, (job.resume or {})["actions"])
            actions = [to_flow_action(doc) for doc in pinned]
        else:
            draft = await load_draft(self.redis, job.tenant, job.action_id or "")
            code = draft["code"]
            actions = [FlowAction(
                action_id=draft["action_id"], name=draft["name"], version=None, code=code,
                code_sha256=hashlib.sha256(code.encode()).hexdigest(),
                secrets=dict(draft.get("secrets") or {}), cache=None)]
        needs_cache = [a for a in actions if actioncache.uses_cache(a.code)]
        if not needs_cache:
            return actions
        pipe = self.redis.pipeline(transaction=False)
        for action in needs_cache:
            pipe.hgetall(keys.cache(job.tenant, action.action_id))
        raws = await pipe.execute()
        snapshots: dict[str, dict[str, Any]] = {}
        prune = self.redis.pipeline(transaction=False)
        for action, raw in zip(needs_cache, raws, strict=True):
            snapshots[action.action_id], stale = actioncache.decode_entries(raw)
            if stale:  # expired entries would otherwise stay in the hash for good
                prune.hdel(keys.cache(job.tenant, action.action_id), *stale)
        if len(prune):
            await prune.execute()
        return [dataclasses.replace(a, cache=snapshots[a.action_id])
                if a.action_id in snapshots else a for a in actions]

    async def _answer(self, entry_id: bytes, job: Job, result: dict[str, Any],
                      cache_writes: list[tuple[str, list]], poison: bool = False,
                      pause: dict[str, Any] | None = None) -> None:
        """Result, record, cache writes, continuation, retry or dead letter, release and ack
        in one MULTI."""
        await self.answers.commit(lambda pipe: self._queue_answer(
            pipe, entry_id, job, result, cache_writes, poison, pause))

    def _queue_answer(self, pipe: Any, entry_id: bytes, job: Job, result: dict[str, Any],
                      cache_writes: list[tuple[str, list]], poison: bool,
                      pause: dict[str, Any] | None = None) -> None:
        state = "final"
        failed_background = (not TRIGGERS[job.trigger].blocking and job.kind == FLOW
                             and result["on_error"]["applied"])
        if poison:
            retry.queue_dead_letter(pipe, job, result, "poison")
        elif failed_background and job.attempt < self.settings.background_attempts:
            again, due_ms = retry.next_attempt(job, self.settings.background_backoff_s,
                                               self.settings.flow_deadline_s)
            retry.queue_retry(pipe, again, due_ms)
            state = "pending"
        elif failed_background:
            retry.queue_dead_letter(pipe, job, result, "retries_exhausted")
        if job.reply_to:
            results = keys.results(job.reply_to)
            pipe.xadd(results, {"r": encode_result(result)}, maxlen=RESULT_STREAM_MAXLEN,
                      approximate=True)
            pipe.expire(results, RESULT_STREAM_TTL_S)
        record = {**result, "state": state, "attempts": job.attempt, "tenant": job.tenant,
                  "kind": job.kind, "finished_at_ms": now_ms()}
        pipe.set(keys.execution(job.tenant, job.id), encode_result(record),
                 ex=self.settings.execution_ttl_s)
        for action_id, effects in cache_writes:
            actioncache.queue_writes(pipe, job.tenant, action_id, effects)
        if job.kind == CONTINUE:
            continuations.queue_finish(pipe, job.tenant, job.id)
        if pause is not None and job.continuation_sha256 and not poison:
            continuations.queue_pause(
                pipe, job.tenant, job.id, token_sha256=job.continuation_sha256,
                spent=list((job.resume or {}).get("spent") or []),
                state={"trigger": job.trigger, **pause},
                ttl_s=self.settings.continuation_ttl_s, now_ms=now_ms())
        pipe.zrem(keys.inflight(job.tenant), job.id)
        pipe.xack(keys.JOBS, keys.JOBS_GROUP, entry_id)
        pipe.xdel(keys.JOBS, entry_id)

    async def _dead_letter(self, entry_id: bytes, fields: dict[bytes, bytes], reason: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(keys.DEAD, {"job": fields.get(b"job", b""), "reason": reason},
                  maxlen=10_000, approximate=True)
        pipe.xack(keys.JOBS, keys.JOBS_GROUP, entry_id)
        pipe.xdel(keys.JOBS, entry_id)
        await pipe.execute()
