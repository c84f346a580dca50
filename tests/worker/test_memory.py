"""Memory limits: a guest that exceeds its address space gets `memory_limit`; the pool carries on."""
from __future__ import annotations

import pytest

from sandbox.limits import Limits
from tests.worker.poolkit import action, pid_alive, pids, run
from worker.pool import SandboxPool

HOGS = [
    # (id, handler body, error type): SizeLimitError is the sandbox refusing up front;
    # MemoryError is the child's RLIMIT_AS refusing the allocation itself.
    ("half a gigabyte string", "x = 'a' * (512 * 1024 * 1024)", "SizeLimitError"),
    ("growing list", "x = []\nwhile True:\n    x.append('a' * 1000)", "MemoryError"),
    ("growing bytearray", "x = bytearray()\nwhile True:\n    x += b'a' * 65536", "MemoryError"),
    ("doubling list", "x = [0]\nwhile True:\n    x = x + x", "MemoryError"),
]


@pytest.mark.parametrize(("body", "error_type"), [h[1:] for h in HOGS], ids=[h[0] for h in HOGS])
async def test_memory_hog_is_stopped_and_child_replaced(
        pool: SandboxPool, body: str, error_type: str) -> None:
    assert (await run(pool, action("pass"))).status == "ok"
    [pid] = pids(pool, "acme")
    outcome = await run(pool, action(body), limits=Limits(timeout_s=10))
    assert outcome.status == "memory_limit"
    assert outcome.error is not None
    assert (outcome.error["class"], outcome.error["type"]) == ("memory_limit", error_type)
    assert not pid_alive(pid)
    after = await run(pool, action("api.id_token.set_custom_claim('ok', True)"))
    assert after.status == "ok"
    assert after.effects == [{"op": "id_token.set_custom_claim", "args": {"name": "ok", "value": True}}]
    assert pids(pool, "acme") not in ([], [pid])


async def test_memory_limit_is_per_run_limits(pool: SandboxPool) -> None:
    # 64 MiB fits a 256 MiB child but not a 32 MiB one.
    body = "x = bytearray(64 * 1024 * 1024)\napi.id_token.set_custom_claim('n', len(x))"
    roomy = await run(pool, action(body), limits=Limits(memory_limit_bytes=256 * 1024 * 1024))
    tight = await run(pool, action(body), limits=Limits(memory_limit_bytes=32 * 1024 * 1024))
    assert roomy.status == "ok"
    assert roomy.effects[0]["args"]["value"] == 64 * 1024 * 1024
    assert tight.status == "memory_limit"
