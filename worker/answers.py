"""Group commit of answers: every answer ready meanwhile goes to Redis in one MULTI.

One write and one round trip per batch instead of per job: under load several jobs finish
while the previous batch is on the wire, and they share the next one. Each answer is still
atomic (result, record, release, ack happen together or not at all).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

QueueCommands = Callable[[Any], None]  # adds one answer's commands to a pipeline


class AnswerBatcher:
    """`await commit(queue)` returns once that answer's commands have been executed."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._pending: list[tuple[QueueCommands, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def commit(self, queue: QueueCommands) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_forever(), name="answers")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((queue, future))
        self._wake.set()
        await future

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                await self._flush(batch)

    async def _flush(self, batch: list[tuple[QueueCommands, asyncio.Future[None]]]) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for queue, _ in batch:
            queue(pipe)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # connection lost, timeout: every committer retries
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for reply in replies:
            if isinstance(reply, Exception):  # a command refused (e.g. WRONGTYPE): log, go on
                log.error("an answer command failed: %s", reply)
        for _, future in batch:
            if not future.done():
                future.set_result(None)
