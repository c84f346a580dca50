"""In-process costs: compile, run_action, a pool round trip, and forking a child."""
from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
from collections.abc import Callable

from sandbox.compiler import compile_action
from sandbox.execute import run_action
from sandbox.limits import Limits
from worker.pool import SandboxPool

SOURCE = """
def on_execute_post_login(event, api):
    if event.authorization:
        api.id_token.set_custom_claim("https://example.com/roles", event.authorization.roles)
"""
EVENT = {"user": {"user_id": "auth0|1"}, "authorization": {"roles": ["admin"]}}
HANDLER = "on_execute_post_login"


def per_call_us(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


async def pool_costs() -> tuple[float, float]:
    pool = SandboxPool()
    await pool.start()
    sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    limits = Limits()

    async def run(tenant: str) -> None:
        await pool.run(tenant, code_sha256=sha, source=SOURCE, trigger_id="post-login",
                       handler=HANDLER, event=EVENT, secrets={}, cache={}, limits=limits)

    try:
        await run("warm")
        n = 500
        start = time.perf_counter()
        for _ in range(n):
            await run("warm")
        round_trip_us = (time.perf_counter() - start) / n * 1e6
        for i in range(30):
            await run(f"tenant-{i}")  # a new tenant needs a fresh child
        spawn_ms = statistics.median(pool.stats.spawn_ms)
    finally:
        await pool.close()
    return round_trip_us, spawn_ms


def sandbox_costs() -> list[str]:
    compiled = compile_action(SOURCE)
    assert compiled.code is not None
    compile_us = per_call_us(lambda: compile_action(SOURCE), 200)
    run_us = per_call_us(lambda: run_action(
        compiled.code, trigger_id="post-login", handler=HANDLER, event=EVENT, secrets={},
        cache={}, limits=Limits()), 2000)
    round_trip_us, spawn_ms = asyncio.run(pool_costs())
    return [
        f"compile_action (small action):        {compile_us:8.0f} us",
        f"run_action in process:                {run_us:8.1f} us",
        f"pool round trip (warm child):         {round_trip_us:8.0f} us",
        f"new child from the warm template:     {spawn_ms:8.2f} ms (median)",
        f"compile / run ratio:                  {compile_us / run_us:8.0f}x",
    ]
