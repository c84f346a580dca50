"""Time limits: the polite in-child alarm first, then the supervisor's SIGKILL, whatever runs."""
from __future__ import annotations

import asyncio
import time

import pytest

from sandbox.limits import Limits
from tests.worker.poolkit import action, pid_alive, pids, run
from worker.pool import SandboxPool

TIMEOUT_S = 0.3
GRACE_S = 0.2  # the pool fixture's

# One sort of 24M scrambled bytes: seconds inside list.sort, which never checks for signals.
LONG_C_CALL = ("table = bytes((i * 167) % 256 for i in range(256))\n"
               "x = sorted((bytes(range(256)) * 94000).translate(table))")
BIG = Limits(timeout_s=TIMEOUT_S, memory_limit_bytes=512 * 1024 * 1024)

RUNAWAYS = [
    # (id, handler body, watchdog SIGKILL needed: the alarm cannot interrupt a single C call)
    ("swallowing try/except",
     "while True:\n    try:\n        pass\n    except BaseException:\n        pass", False),
    ("busy loop", "i = 0\nwhile True:\n    i += 1", False),
    ("regex backtracking", "import re\nre.match('(a+)+$', 'a' * 64 + 'b')", False),
    ("one long C call", LONG_C_CALL, True),
]


@pytest.mark.parametrize(("body", "hard_kill"), [r[1:] for r in RUNAWAYS],
                         ids=[r[0] for r in RUNAWAYS])
async def test_runaway_ends_on_time_and_child_is_replaced(
        pool: SandboxPool, body: str, hard_kill: bool) -> None:
    warm = await run(pool, action("pass"), limits=BIG)
    assert warm.status == "ok"
    [pid] = pids(pool, "acme")
    started = time.monotonic()
    outcome = await run(pool, action(body), limits=BIG)
    elapsed_s = time.monotonic() - started
    assert outcome.status == "timeout"
    assert outcome.error is not None and outcome.error["class"] == "action_timeout"
    assert elapsed_s < TIMEOUT_S + GRACE_S + 2.0
    assert pool.stats.killed == (1 if hard_kill else 0)
    assert not pid_alive(pid)  # killed and reaped before run() returned
    assert pids(pool, "acme") == []
    after = await run(pool, action("api.id_token.set_custom_claim('n', 1)"), limits=BIG)
    assert after.status == "ok"
    assert after.effects == [{"op": "id_token.set_custom_claim", "args": {"name": "n", "value": 1}}]
    assert pids(pool, "acme") != [pid]


async def test_huge_power_is_refused_before_it_runs(pool: SandboxPool) -> None:
    # `10**10**10` never reaches the CPU: the sandbox's size guard refuses it up front (it
    # would otherwise be "one long C call" above, ended by the watchdog).
    outcome = await run(pool, action("x = 10**10**10"), limits=Limits(timeout_s=TIMEOUT_S))
    assert outcome.status == "memory_limit"
    assert outcome.error is not None and outcome.error["type"] == "SizeLimitError"
    assert (await run(pool, action("pass"))).status == "ok"


async def test_other_runs_are_unaffected_by_a_killed_child(pool: SandboxPool) -> None:
    slow = run(pool, action(LONG_C_CALL), tenant="evil", limits=BIG)
    quick = [run(pool, action(f"api.id_token.set_custom_claim('i', {i})"), tenant="good")
             for i in range(5)]
    results = await asyncio.gather(slow, *quick)
    assert results[0].status == "timeout"
    assert [r.effects[0]["args"]["value"] for r in results[1:]] == [0, 1, 2, 3, 4]
    assert pool.stats.killed == 1
