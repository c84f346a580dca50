"""Gateway side of the queue: admit jobs, then resolve waiting requests from one result stream.

Each gateway process has one id and one result stream (`ar:results:{id}`); a single reader task
serves every waiting request, so a waiting request costs a future, not a connection or thread.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runtime import keys
from runtime.errors import ApiError
from runtime.jobs import Job, decode_result, now_ms
from runtime.redis_client import READ_BLOCK_MS, read_block_ms

log = logging.getLogger(__name__)

HEARTBEAT_WINDOW_MS = 5000  # a worker silent for longer is not counted alive
READ_BATCH = 256
READ_RETRY_PAUSE_S = 0.2  # after a refused connection; a timed-out read has waited already

QUEUED, DUPLICATE, QUEUE_FULL, TENANT_BUSY, NO_WORKER = 1, 2, -1, -2, -3
RECORD_POLL_S = 0.05



@dataclass
class Admission:
    """A queued job (`future` set when the caller waits) or an earlier run of the same key."""

    future: asyncio.Future[dict[str, Any]] | None = None
    earlier_execution_id: str | None = None


class Dispatcher:
    """Submits jobs and hands each waiting request its result by execution id."""

    def __init__(self, redis: aioredis.Redis, *, max_queue_length: int, record_ttl_s: int) -> None:
        self.redis = redis
        self.gateway_id = uuid.uuid4().hex
        self.results_key = keys.results(self.gateway_id)
        self.max_queue_length = max_queue_length
        self.record_ttl_s = record_ttl_s
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._admit = redis.register_script(
            resources.files("runtime.gateway").joinpath("admission.lua").read_text()
        )
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self.read_block_ms = read_block_ms(redis)

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_results(), name="result-reader")

    async def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            # redis-py can swallow a cancel that lands while a connection is being made, so
            # the loop also checks `_closing` and the wait is bounded.
            self._reader.cancel()
            await asyncio.wait({self._reader}, timeout=READ_BLOCK_MS / 1000 + 1)
        for future in self._waiters.values():
            future.cancel()
        self._waiters.clear()
        try:
            await self.redis.delete(self.results_key)
        except RedisError:
            pass

    async def submit(
        self, job: Job, *, tenant_max_inflight: int, wait: bool, pending_record: bytes | None = None,
        idempotency_key: str | None = None, idempotency_ttl_s: int = 0,
    ) -> Admission:
        """Queue `job` or raise ApiError 503/429.

        With an idempotency key already used by an admitted job, nothing is queued and the
        earlier execution id is returned instead.
        """
        future: asyncio.Future[dict[str, Any]] | None = None
        if wait:
            job.reply_to = self.gateway_id
            future = asyncio.get_running_loop().create_future()
            self._waiters[job.id] = future
        try:
            reply = await self._admit(
                keys=[
                    keys.JOBS, keys.inflight(job.tenant), keys.WORKERS, keys.WORKER_SLOTS,
                    keys.rev(job.tenant), keys.execution(job.tenant, job.id),
                    keys.idempotency(job.tenant, idempotency_key or ""),
                ],
                args=[
                    now_ms(), job.deadline_ms, job.id, self.max_queue_length, tenant_max_inflight,
                    HEARTBEAT_WINDOW_MS, job.encode(), pending_record or b"", self.record_ttl_s,
                    idempotency_ttl_s if idempotency_key else 0,
                ],
            )
        except RedisError as exc:
            self._waiters.pop(job.id, None)
            log.warning("admission failed: %s", exc)
            raise ApiError(503, "redis_unavailable", "the job queue is unavailable; retry shortly",
                           headers={"Retry-After": "1"}) from None
        code = int(reply[0])
        if code == QUEUED:
            return Admission(future=future)
        self._waiters.pop(job.id, None)
        if code == DUPLICATE:
            return Admission(earlier_execution_id=reply[1].decode())
        if code == QUEUE_FULL:
            raise ApiError(503, "queue_full", "too many queued executions; retry shortly",
                           headers={"Retry-After": "1"})
        if code == TENANT_BUSY:
            raise ApiError(429, "too_many_inflight",
                           f"tenant has {int(reply[1])} executions in flight, its limit",
                           headers={"Retry-After": "1"})
        raise ApiError(503, "no_worker", "no worker is alive to run the execution",
                       headers={"Retry-After": "2"})

    async def wait(self, job: Job, future: asyncio.Future[dict[str, Any]], timeout_s: float) -> dict[str, Any]:
        """The job's result, or ApiError 504 once `timeout_s` passes (the request is forgotten)."""
        try:
            return await asyncio.wait_for(future, timeout=max(timeout_s, 0.0))
        except TimeoutError:
            raise ApiError(504, "deadline_exceeded",
                           f"no result for execution {job.id} by its deadline") from None
        finally:
            self._waiters.pop(job.id, None)

    async def wait_record(self, tenant: str, execution_id: str, timeout_s: float) -> dict[str, Any]:
        """The final record of an earlier execution (idempotent retries), or ApiError 504.

        Rare path, so it polls the record rather than registering a second waiter.
        """
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                blob: Any = await self.redis.get(keys.execution(tenant, execution_id))
            except RedisError:
                blob = None
            if blob is not None:
                record = decode_result(blob)
                if record.get("state") == "final":
                    return record
            if asyncio.get_running_loop().time() >= deadline:
                raise ApiError(504, "deadline_exceeded",
                               f"execution {execution_id} has not finished by the deadline")
            await asyncio.sleep(RECORD_POLL_S)

    async def _read_results(self) -> None:
        last_id = "0-0"  # the stream is this process's own (its id is fresh)
        while not self._closing:
            try:
                batches: Any = await self.redis.xread({self.results_key: last_id},
                                                 count=READ_BATCH, block=self.read_block_ms)
            except asyncio.CancelledError:
                raise
            except RedisError as exc:
                log.warning("result reader: %s; retrying", exc)
                if not isinstance(exc, RedisTimeoutError):
                    await asyncio.sleep(READ_RETRY_PAUSE_S)
                continue
            for _stream, entries in batches:
                for entry_id, fields in entries:
                    last_id = entry_id.decode()
                    self._resolve(fields)
            # No XDEL: workers cap the stream (MAXLEN ~) and it expires with this gateway.

    def _resolve(self, fields: dict[bytes, bytes]) -> None:
        try:
            result = decode_result(fields[b"r"])
        except (KeyError, ValueError) as exc:
            log.error("dropping malformed result: %s", exc)
            return
        future = self._waiters.pop(str(result.get("execution_id")), None)
        if future is not None and not future.done():
            future.set_result(result)
