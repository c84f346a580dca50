"""Fixtures for the sandbox process layer: a real pool with real contained children."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from worker.pool import SandboxPool


@pytest.fixture
async def pool() -> AsyncIterator[SandboxPool]:
    pool = SandboxPool(grace_s=0.2)
    await pool.start()
    yield pool
    await pool.close()
