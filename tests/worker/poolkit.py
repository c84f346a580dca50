"""Helpers for the worker tests: build actions, run them on a pool, inspect children."""
from __future__ import annotations

import hashlib
from typing import Any

from sandbox.limits import Limits
from sandbox.outcome import ActionOutcome
from worker.pool import SandboxPool

HANDLER = "on_execute_post_login"


def action(body: str) -> str:
    """A post-login action whose handler body is `body` (indented for you)."""
    lines = "\n".join("    " + line for line in body.splitlines())
    return f"def {HANDLER}(event, api):\n{lines}\n"


def sha(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (dead, waiting for its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def run(pool: SandboxPool, source: str, *, tenant: str = "acme",
              limits: Limits | None = None, event: dict[str, Any] | None = None,
              trigger_id: str = "post-login", handler: str = HANDLER) -> ActionOutcome:
    return await pool.run(
        tenant, code_sha256=sha(source), source=source, trigger_id=trigger_id, handler=handler,
        event=event if event is not None else {"user": {"user_id": "u1"}}, secrets={}, cache={},
        limits=limits or Limits(),
    )


def pids(pool: SandboxPool, tenant: str) -> list[int]:
    return sorted(c["pid"] for c in pool.child_info() if c["tenant"] == tenant)
