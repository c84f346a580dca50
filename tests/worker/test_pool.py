"""SandboxPool: tenant affinity, concurrency, the compiled-code cache, child death, spawn cost."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

from sandbox.limits import Limits
from tests.worker.poolkit import action, pid_alive, pids, run
from worker.errors import PoolClosed
from worker.pool import SandboxPool

CLAIM = action("api.id_token.set_custom_claim('tenant', event.user.user_id)")


async def test_tenant_affinity(pool: SandboxPool) -> None:
    first = await run(pool, CLAIM, tenant="acme")
    [acme_pid] = pids(pool, "acme")
    second = await run(pool, CLAIM, tenant="acme")
    assert pids(pool, "acme") == [acme_pid]  # reused, not respawned
    other = await run(pool, CLAIM, tenant="globex")
    [globex_pid] = pids(pool, "globex")
    assert globex_pid != acme_pid
    assert [o.status for o in (first, second, other)] == ["ok", "ok", "ok"]
    info = {c["pid"]: (c["tenant"], c["runs"]) for c in pool.child_info() if not c["spare"]}
    assert info == {acme_pid: ("acme", 2), globex_pid: ("globex", 1)}


async def test_a_used_child_never_changes_tenant(pool: SandboxPool) -> None:
    seen: dict[int, str] = {}
    for tenant in ["a", "b", "a", "c", "b", "a"] * 2:
        assert (await run(pool, CLAIM, tenant=tenant)).status == "ok"
        for child in pool.child_info():
            if child["spare"]:  # fresh, never ran anything: the one state that may be bound
                assert (child["pid"] not in seen, child["runs"]) == (True, 0)
            else:
                assert seen.setdefault(child["pid"], child["tenant"]) == child["tenant"]
    assert sorted(seen.values()) == ["a", "b", "c"]


async def test_retired_after_max_runs() -> None:
    pool = SandboxPool(max_runs_per_child=3)
    await pool.start()
    try:
        used = []
        for _ in range(7):
            assert (await run(pool, CLAIM)).status == "ok"
            used.extend(pids(pool, "acme"))
        assert [used.count(pid) for pid in dict.fromkeys(used)] == [2, 2, 1]
    finally:
        await pool.close()


async def test_concurrent_runs(pool: SandboxPool) -> None:
    busy = "n = 0\nfor i in range(300000):\n    n += i\napi.id_token.set_custom_claim('n', n)"
    jobs = [run(pool, action(busy), tenant=t) for t in ("acme", "globex") * 3]
    outcomes = await asyncio.gather(*jobs)
    assert [o.status for o in outcomes] == ["ok"] * 6
    assert {o.effects[0]["args"]["value"] for o in outcomes} == {sum(range(300000))}
    # Three at once per tenant: at least two children each, at most max_idle_per_tenant kept.
    assert len(pids(pool, "acme")) == 2 and len(pids(pool, "globex")) == 2


async def test_compiled_code_is_cached_by_hash(pool: SandboxPool) -> None:
    assert (await run(pool, CLAIM)).status == "ok"
    assert pool.stats.compiles == 1
    assert (await run(pool, CLAIM)).status == "ok"
    assert pool.stats.compiles == 1  # same child, same sha256: no recompile
    assert (await run(pool, action("pass"))).status == "ok"
    assert pool.stats.compiles == 2


async def test_wrong_hash_never_runs_other_code(pool: SandboxPool) -> None:
    a = action("api.id_token.set_custom_claim('which', 'a')")
    b = action("api.id_token.set_custom_claim('which', 'b')")
    common: dict[str, Any] = {"trigger_id": "post-login", "handler": "on_execute_post_login",
                              "event": {}, "secrets": {}, "cache": {}, "limits": Limits()}
    first = await pool.run("acme", code_sha256="same", source=a, **common)
    second = await pool.run("acme", code_sha256="same", source=b, **common)
    assert [first.effects[0]["args"]["value"], second.effects[0]["args"]["value"]] == ["a", "b"]


async def test_compile_errors_come_back_from_the_child(pool: SandboxPool) -> None:
    bad = "def on_execute_post_login(event, api):\n    x = 1\n    y = x._private\n"
    outcome = await run(pool, bad)
    assert outcome.status == "error"
    assert outcome.error is not None
    assert (outcome.error["class"], outcome.error["type"], outcome.error["line"]) == (
        "action_error", "CompileError", 3)
    assert "line 3:" in outcome.error["message"]
    [pid] = pids(pool, "acme")  # a compile error does not cost the child
    assert (await run(pool, CLAIM)).status == "ok"
    assert pids(pool, "acme") == [pid]


SPIN_1S = """
import datetime

def on_execute_post_login(event, api):
    started = datetime.datetime.now()
    while (datetime.datetime.now() - started).total_seconds() < 1:
        pass
    api.access_token.set_custom_claim("spun", True)
"""


async def busy_child(pool: SandboxPool, other_than: int | None = None) -> int:
    """The pid of acme's child once one other than `other_than` exists."""
    for _ in range(200):
        found = [p for p in pids(pool, "acme") if p != other_than]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError("no new sandbox child appeared")


async def test_a_child_that_dies_mid_run_is_rerun_once_in_a_fresh_child(
        pool: SandboxPool) -> None:
    task = asyncio.create_task(run(pool, SPIN_1S, limits=Limits(timeout_s=10)))
    first = await busy_child(pool)
    await asyncio.sleep(0.3)
    os.kill(first, signal.SIGKILL)
    outcome = await asyncio.wait_for(task, 15)
    assert (outcome.status, outcome.effects) == (
        "ok", [{"op": "access_token.set_custom_claim", "args": {"name": "spun", "value": True}}])
    assert not pid_alive(first)
    assert (pool.stats.died, pool.stats.reruns) == (1, 1)


async def test_a_second_death_is_a_platform_error(pool: SandboxPool) -> None:
    task = asyncio.create_task(run(pool, SPIN_1S, limits=Limits(timeout_s=10)))
    first = await busy_child(pool)
    await asyncio.sleep(0.3)
    os.kill(first, signal.SIGKILL)
    second = await busy_child(pool, other_than=first)
    await asyncio.sleep(0.3)
    os.kill(second, signal.SIGKILL)
    outcome = await asyncio.wait_for(task, 15)
    assert outcome.status == "error"
    assert outcome.error == {"class": "platform_error", "type": None,
                             "message": "sandbox child died by signal SIGKILL", "line": None}
    assert (pool.stats.died, pool.stats.reruns) == (2, 1)
    assert (await run(pool, CLAIM)).status == "ok"


async def test_template_death_is_survived(pool: SandboxPool) -> None:
    assert (await run(pool, CLAIM)).status == "ok"
    [pid] = pids(pool, "acme")
    old_template = pool.template_pid
    os.kill(old_template, signal.SIGKILL)
    await asyncio.sleep(0.2)
    assert not pid_alive(pid)  # children die with their template (PR_SET_PDEATHSIG)
    outcome = await run(pool, CLAIM)
    assert (outcome.status, pool.template_pid != old_template) == ("ok", True)


WORKER = """
import asyncio, json, sys
from sandbox.limits import Limits
from worker.pool import SandboxPool

async def main():
    pool = SandboxPool()
    await pool.start()
    source = "def on_execute_post_login(event, api):\\n    pass\\n"
    await pool.run("acme", code_sha256="s", source=source, trigger_id="post-login",
                   handler="on_execute_post_login", event={}, secrets={}, cache={},
                   limits=Limits())
    for _ in range(100):  # the spare acme took is replaced in the background
        if len(pool.child_info()) == 2:
            break
        await asyncio.sleep(0.05)
    pids = [pool.template_pid, *(c["pid"] for c in pool.child_info())]
    print(json.dumps(pids), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_everything_dies_with_the_worker() -> None:
    worker = subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()  # the per-test timeout bounds a hang
        template_pid, *child_pids = json.loads(line)
        assert len(child_pids) == 2  # acme's child and the spare
        assert all(pid_alive(pid) for pid in [template_pid, *child_pids])
    finally:
        worker.kill()
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()
    for _ in range(100):  # PR_SET_PDEATHSIG: worker -> template -> children
        if not any(pid_alive(pid) for pid in [template_pid, *child_pids]):
            break
        time.sleep(0.05)
    assert [pid for pid in [template_pid, *child_pids] if pid_alive(pid)] == []


async def test_oversized_job_is_a_platform_error(pool: SandboxPool) -> None:
    outcome = await run(pool, CLAIM, event={"user": {"user_id": "x" * (9 * 1024 * 1024)}})
    assert outcome.status == "error"
    assert outcome.error is not None and outcome.error["class"] == "platform_error"
    assert outcome.error["message"].startswith("cannot send the job: frame of")


async def test_closed_pool_refuses_runs() -> None:
    pool = SandboxPool()
    await pool.start()
    await pool.close()
    try:
        await run(pool, CLAIM)
    except PoolClosed as exc:
        assert str(exc) == "the sandbox pool is not running"
    else:
        raise AssertionError("a closed pool ran an action")


async def spare_forked(pool: SandboxPool, spawned: int) -> None:
    while pool.stats.spawned < spawned:
        await asyncio.sleep(0.005)


async def test_spawn_cost(pool: SandboxPool) -> None:
    for i in range(30):
        assert (await run(pool, action("pass"), tenant=f"t{i}")).status == "ok"
        await asyncio.wait_for(spare_forked(pool, i + 2), 10)  # the probe + one per tenant
    spawns, acquires = list(pool.stats.spawn_ms), list(pool.stats.acquire_ms)
    assert pool.stats.spawned == len(spawns) == 31  # the start-up probe (the first spare) + 30
    assert pool.stats.spare_hits == 30  # every new tenant took a ready spare
    print(f"\nsandbox child fork -> contained and ready: median {statistics.median(spawns):.2f} ms "
          f"(min {min(spawns):.2f}, max {max(spawns):.2f}, n={len(spawns)}); "
          f"a new tenant's child from a spare: median {statistics.median(acquires):.3f} ms")
