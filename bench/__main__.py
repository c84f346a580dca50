"""Benchmark: the execution path with real sandboxes vs. the same path with a no-op executor.

Prints requests/s and latency percentiles for each, their ratios, and in-process sandbox costs.
Everything runs on loopback against a private redis-server; figures depend on the machine.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import redis

from bench.micro import sandbox_costs

DURATION_S = float(os.environ.get("BENCH_DURATION_S", "8"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
ADMIN = "bench-admin"
ACTION = """
def on_execute_post_login(event, api):
    if event.authorization:
        api.id_token.set_custom_claim("https://example.com/roles", event.authorization.roles)
"""
EVENT = {"user": {"user_id": "auth0|1", "email": "a@example.com"},
         "authorization": {"roles": ["admin"]}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


async def prepare(session: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    async with session.post(f"{base}/v1/tenants", json={"id": "bench"},
                            headers={"Authorization": f"Bearer {ADMIN}"}) as r:
        tenant = await r.json()
    mgmt = {"Authorization": f"Bearer {tenant['management_token']}"}
    async with session.post(f"{base}/v1/tenants/bench/actions", headers=mgmt, json={
            "name": "roles", "supported_triggers": [{"id": "post-login"}], "code": ACTION}) as r:
        action = await r.json()
    async with session.post(f"{base}/v1/tenants/bench/actions/{action['id']}/deploy",
                            headers=mgmt) as r:
        assert r.status == 201, await r.text()
    async with session.patch(f"{base}/v1/tenants/bench/triggers/post-login/bindings", headers=mgmt,
                             json={"bindings": [{"ref": {"type": "action_name", "value": "roles"}}]}) as r:
        assert r.status == 200, await r.text()
    return tenant["execution_token"], f"{base}/v1/tenants/bench/triggers/post-login/execute"


async def load(url: str, token: str, duration_s: float) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    stop_at = time.perf_counter() + duration_s
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with session.post(url, json=EVENT, headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                        continue
                latencies.append(time.perf_counter() - t0)
        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return len(latencies), errors, latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def run_scenario(name: str, worker_cmd: list[str], redis_url: str, workdir: Path) -> dict[str, float]:
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    env = {**os.environ, "ACTIONS_REDIS_URL": redis_url, "ACTIONS_PORT": str(port),
           "ACTIONS_ADMIN_TOKEN": ADMIN, "ACTIONS_VAR_DIR": str(workdir / name),
           "ACTIONS_WORKER_SLOTS": "4", "ACTIONS_TENANT_MAX_INFLIGHT": "1000"}
    procs = [subprocess.Popen([sys.executable, "-m", "runtime.cli", "gateway"], env=env,
                              stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen(worker_cmd, env=env, stderr=subprocess.DEVNULL) for _ in range(2)]
    base = f"http://127.0.0.1:{port}"
    try:
        async def go() -> dict[str, float]:
            async with aiohttp.ClientSession() as session:
                for _ in range(300):
                    try:
                        async with session.get(f"{base}/readyz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                token, url = await prepare(session, base)
            await load(url, token, 1.0)  # warm-up: children forked, caches filled
            count, errors, latencies = await load(url, token, DURATION_S)
            return {"rps": count / DURATION_S, "p50_ms": pct(latencies, 0.5),
                    "p99_ms": pct(latencies, 0.99), "errors": errors}
        return asyncio.run(go())
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="actions-bench-"))
    redis_proc, url = start_redis(workdir)
    try:
        print(f"{CONCURRENCY} concurrent clients, {DURATION_S:.0f} s per scenario, "
              f"1 gateway + 2 workers x 4 slots, {os.cpu_count()} CPUs (client shares them)")
        noop = run_scenario("noop", [sys.executable, "-m", "bench.noop_worker"], url, workdir)
        real = run_scenario("sandbox", [sys.executable, "-m", "runtime.cli", "worker"], url, workdir)
    finally:
        redis_proc.terminate()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'scenario':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in (("no-op", noop), ("sandbox", real)):
        print(f"{name:<10}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8.0f}")
    print(f"sandbox/no-op throughput ratio: {real['rps'] / noop['rps']:.2f}; "
          f"p50 ratio: {real['p50_ms'] / noop['p50_ms']:.2f}")
    print()
    for line in sandbox_costs():
        print(line)


if __name__ == "__main__":
    main()
