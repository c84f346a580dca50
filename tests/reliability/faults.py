"""Failure injection helpers: find who runs a job, kill it, wait (bounded) for the aftermath."""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgpack
import redis

from runtime import keys

T = TypeVar("T")

SPIN_ACTION = '''
import datetime

def on_execute_post_login(event, api):
    started = datetime.datetime.now()
    while (datetime.datetime.now() - started).total_seconds() < {seconds}:
        pass
    api.access_token.set_custom_claim("spun", {seconds})
'''

LIGHT_ACTION = '''
def on_execute_post_login(event, api):
    api.access_token.set_custom_claim("light", True)
'''

LOGIN_EVENT = {"user": {"user_id": "auth0|1", "email": "ada@example.com", "app_metadata": {}}}


def spin_action(seconds: float) -> str:
    """An action that keeps its CPU busy for `seconds` of wall time (no sleep in the sandbox)."""
    return SPIN_ACTION.format(seconds=seconds)


def wait_for(probe: Callable[[], T | None], timeout_s: float, what: str,
             interval_s: float = 0.05) -> T:
    """Poll `probe` until it returns something truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


def queued_jobs(client: redis.Redis) -> dict[bytes, dict[str, Any]]:
    """Every job still in the stream, by entry id, decoded."""
    return {entry_id: msgpack.unpackb(fields[b"job"], raw=False)
            for entry_id, fields in client.xrange(keys.JOBS)}


def pending(client: redis.Redis) -> dict[bytes, tuple[str, int]]:
    """Pending (delivered, unacknowledged) entries: entry id -> (consumer, times delivered)."""
    try:
        rows = client.xpending_range(keys.JOBS, keys.JOBS_GROUP, min="-", max="+", count=1000)
    except redis.ResponseError:  # no group yet
        return {}
    return {row["message_id"]: (row["consumer"].decode(), int(row["times_delivered"]))
            for row in rows}


def pending_count(client: redis.Redis) -> int:
    return int(client.xpending(keys.JOBS, keys.JOBS_GROUP)["pending"])


def consumers(client: redis.Redis) -> set[str]:
    return {c["name"].decode() for c in client.xinfo_consumers(keys.JOBS, keys.JOBS_GROUP)}


def entry_of(client: redis.Redis, tenant: str) -> bytes | None:
    """The stream entry id of `tenant`'s (only) queued job, if it is there."""
    for entry_id, job in queued_jobs(client).items():
        if job["tenant"] == tenant:
            return entry_id
    return None


def worker_pid(client: redis.Redis, consumer: str) -> int:
    """The pid a worker advertises in its heartbeat doc (the consumer name is its worker id)."""
    return int(client.hget(keys.worker(consumer), "pid"))


def child_pids(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.extend(int(p) for p in task.read_text().split())
        except OSError:
            pass
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], child_pids(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(child_pids(p))
    return out


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def busy_sandbox_child(worker: int, sample_s: float = 0.3) -> int | None:
    """The worker's sandbox child burning CPU now: sandbox children are grandchildren of the
    worker (forked from its template); only the one running a spinning action gains ticks."""
    template_children = [p for t in child_pids(worker) for p in child_pids(t)]
    before = {p: cpu_ticks(p) for p in template_children}
    time.sleep(sample_s)
    gained = {p: cpu_ticks(p) - t for p, t in before.items() if t >= 0}
    busy = [p for p, ticks in gained.items() if ticks > 0]
    return busy[0] if len(busy) == 1 else None


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def kill_worker(procs: list[Any], pid: int) -> None:
    """SIGKILL the worker process `pid` (one of the service's Popens) and reap it."""
    [proc] = [p for p in procs if p.pid == pid]
    proc.kill()
    proc.wait(10)
