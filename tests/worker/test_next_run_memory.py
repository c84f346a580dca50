"""What one run leaves in its child's process-wide state never starves the next run there:
each retention attack, then a run allocating most of the memory limit in the same child."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.limits import Limits
from tests.worker.poolkit import action, pids, run
from worker.child import ESCAPE_MARKER
from worker.pool import SandboxPool

BIG = action("x = bytearray(100 * 1024 * 1024)\nprint(len(x))")  # of a 128 MiB limit

RETENTION_ATTACKS = [
    # urlsplit's lru_cache keeps up to 128 URLs whatever their size.
    ("urlsplit cache", "from urllib.parse import urlsplit\nfor i in range(60):\n"
                       "    urlsplit('http://h/' + str(i) + 'x' * 1000000)"),
    # re's compile cache keeps 512 patterns.
    ("re cache", "import re\nfor i in range(15):\n    re.compile('x' * 100000 + str(i))"),
    # RegexFlag made (and kept) a pseudo-member per combined value.
    ("re flag members", "import re\nfor i in range(200000):\n    f = re.I | (i << 12)"),
    # The codec search remembers every name that failed.
    ("codec negative cache", "for i in range(550):\n    try:\n"
                             "        'x'.encode('n' * 100000 + str(i))\n"
                             "    except LookupError:\n        pass"),
]


@pytest.fixture
async def pool() -> AsyncIterator[SandboxPool]:
    pool = SandboxPool(spare_children=0, escape_hook=True)
    await pool.start()
    yield pool
    await pool.close()


@pytest.mark.parametrize("body", [a[1] for a in RETENTION_ATTACKS],
                         ids=[a[0] for a in RETENTION_ATTACKS])
async def test_the_next_run_in_the_same_child_gets_its_whole_memory(pool: SandboxPool,
                                                                    body: str) -> None:
    attack = await run(pool, action(body), limits=Limits(timeout_s=10))
    assert attack.status == "ok", attack
    [pid] = pids(pool, "acme")
    big = await run(pool, BIG)
    assert (big.status, big.logs) == ("ok", f"{100 * 1024 * 1024}\n"), big
    assert pids(pool, "acme") == [pid]  # the caches were emptied: no backstop was needed
    assert pool.stats.memory_retired == 0


async def test_a_child_whose_memory_grew_is_retired(pool: SandboxPool) -> None:
    """The backstop, for whatever state nobody has found yet: played by an escaped child."""
    keep = ESCAPE_MARKER + "import builtins\nbuiltins.KEEP = bytearray(b'k') * (48 * 1024 * 1024)\n"
    assert (await run(pool, keep)).status == "ok"
    assert pool.stats.memory_retired == 1
    assert pids(pool, "acme") == []
    assert (await run(pool, BIG)).status == "ok"
