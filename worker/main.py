"""`actions-runtime worker`: one worker process (heartbeat, consumer, sandbox pool)."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from runtime import keys
from runtime.errors import ConfigError
from runtime.jobs import now_ms
from runtime.redis_client import connect
from runtime.settings import Settings
from worker.consumer import Consumer
from worker.pool import SandboxPool

log = logging.getLogger("actions_runtime.worker")

HEARTBEAT_INTERVAL_S = 1.0
WORKER_DOC_TTL_S = 30
FORGET_AFTER_MS = 3600 * 1000



async def heartbeat(redis: aioredis.Redis, worker_id: str, slots: int) -> None:
    """Advertise this worker and its slots; gateways count live slots from these."""
    while True:
        now = now_ms()
        try:
            pipe = redis.pipeline(transaction=False)
            pipe.zadd(keys.WORKERS, {worker_id: now})
            pipe.hset(keys.WORKER_SLOTS, worker_id, slots)
            pipe.hset(keys.worker(worker_id), mapping={
                "slots": slots, "pid": os.getpid(), "host": socket.gethostname()})
            pipe.expire(keys.worker(worker_id), WORKER_DOC_TTL_S)
            pipe.zrangebyscore(keys.WORKERS, "-inf", now - FORGET_AFTER_MS)
            *_, gone = await pipe.execute()
            if gone:  # workers that crashed an hour ago: drop their slots with them
                pipe = redis.pipeline(transaction=True)
                pipe.zrem(keys.WORKERS, *gone)
                pipe.hdel(keys.WORKER_SLOTS, *gone)
                await pipe.execute()
        except RedisError as exc:
            log.warning("heartbeat failed: %s", exc)
        await asyncio.sleep(HEARTBEAT_INTERVAL_S)


async def deregister(redis: aioredis.Redis, worker_id: str) -> None:
    try:
        pipe = redis.pipeline(transaction=True)
        pipe.zrem(keys.WORKERS, worker_id)
        pipe.hdel(keys.WORKER_SLOTS, worker_id)
        pipe.delete(keys.worker(worker_id))
        await pipe.execute()
    except RedisError as exc:
        log.warning("could not deregister: %s", exc)


async def serve_worker(settings: Settings) -> None:
    redis = connect(settings)
    pool = SandboxPool.from_settings(settings, settings.worker_slots)
    await pool.start()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    beat = asyncio.create_task(heartbeat(redis, worker_id, settings.worker_slots))
    log.info("worker %s ready with %d slots", worker_id, settings.worker_slots)
    try:
        await Consumer(redis, pool, settings, worker_id, settings.worker_slots).run(stop)
    finally:
        beat.cancel()
        await deregister(redis, worker_id)
        await pool.close()
        await redis.aclose()
    log.info("worker %s stopped", worker_id)


def run_worker() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
        asyncio.run(serve_worker(settings))
    except ConfigError as exc:
        print(f"actions-runtime worker: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run_worker())
