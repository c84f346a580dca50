"""A worker whose executor does nothing: the queue path alone, for comparison with the sandbox."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from typing import Any

from runtime.redis_client import connect
from runtime.settings import Settings
from worker.consumer import Consumer
from worker.main import deregister, heartbeat


async def noop_flow(_pool: Any, *, trigger_id: str, **_: Any) -> dict[str, Any]:
    return {"trigger": trigger_id, "status": "success", "effects": [], "actions": []}


async def main() -> None:
    settings = Settings.from_env()
    redis = connect(settings)
    worker_id = f"noop-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    beat = asyncio.create_task(heartbeat(redis, worker_id, settings.worker_slots))
    try:
        await Consumer(redis, None, settings, worker_id, settings.worker_slots,
                       flow_runner=noop_flow).run(stop)
    finally:
        beat.cancel()
        await deregister(redis, worker_id)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
