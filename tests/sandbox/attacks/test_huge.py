"""Huge ints, strings and lists: which layer stops each one.

Layer 1, the size guard (sandbox/guards.py): `**`, `*` and `<<` check the result size before
computing it (`*` of two ints too: repeated squaring is `**`), so nothing is allocated:
SizeLimitError, status memory_limit.
Layer 2, the address-space rlimit the worker sets on each child: C calls that allocate at
once (`bytes(n)`, `sorted(range(n))`, `str.center`, format widths) or grow in one C loop
(`dict.fromkeys`, `''.join` of a generator) fail with MemoryError, status memory_limit.
Layer 2 is exercised here in a subprocess under RLIMIT_AS, so this test process stays safe.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.attacks.runner import expect

ROOT = Path(__file__).resolve().parents[3]

GUARDED = [
    ("x = 10 ** 10 ** 10", "'**' would build a value of about 30000000000 bits"),
    ("x = pow(10, 10 ** 10)", "'**' would build a value of about 30000000000 bits"),
    ("x = 2\nx **= 10 ** 8", "'**' would build a value of about 100000000 bits"),
    ("x = 'a' * 10 ** 10", "'*' would build a value of about 10000000000 bytes"),
    ("x = 10 ** 10 * b'ab'", "'*' would build a value of about 20000000000 bytes"),
    ("x = [0] * 10 ** 10", "'*' would build a value of about 80000000000 bytes"),
    ("x = (0, 1) * 10 ** 9", "'*' would build a value of about 16000000000 bytes"),
    ("x = ['a']\nx *= 10 ** 10", "'*' would build a value of about 80000000000 bytes"),
    ("x = 1 << 10 ** 10", "'<<' would build a value of about 10000000001 bits"),
    # `**` by repeated squaring: int products are checked the same way.
    ("x = 1 << (1 << 19)\ny = x * x", "'*' would build a value of about 1048578 bits"),
    ("x = 1 << (1 << 19)\nx *= x", "'*' would build a value of about 1048578 bits"),
    ("x = 3\nwhile True:\n    x = x * x", "'*' would build a value of about"),
]


@pytest.mark.parametrize(("body", "fragment"), GUARDED)
def test_size_guard_refuses_before_allocating(body: str, fragment: str) -> None:
    result = expect(body, "memory_limit", "SizeLimitError", fragment)
    assert result.outcome is not None and result.outcome.error is not None
    assert result.outcome.error["class"] == "memory_limit"


@pytest.mark.parametrize(("body", "logs"), [
    ("print(len(str(2 ** 4000)), 3 * 'ab', [1] * 3, 1 << 70)",
     "1205 ababab [1, 1, 1] 1180591620717411303424\n"),
    ("print(pow(3, 10 ** 20, 7), 2.0 ** -2, (-1) ** 10 ** 12, 0 ** 10 ** 12)", "4 0.25 1 0\n"),
    ("print((1 << 1000) * 3 == 3 << 1000, -3 * -4, True * 5, 2 ** 64 * 2 ** 64 == 2 ** 128)",
     "True 12 5 True\n"),
])
def test_ordinary_arithmetic_is_untouched(body: str, logs: str) -> None:
    expect(body, "ok", None, logs)


RLIMITED = [
    "x = bytes(10 ** 10)",
    "x = list(range(10 ** 10))",
    "x = 'a'.ljust(10 ** 10)",
    "x = []\nwhile True:\n    x.append('a' * 10 ** 6 + str(len(x)))",
    "x = {}\nfor i in range(10 ** 9):\n    x[i] = i",
    "x = 'x'.join(str(i) for i in range(10 ** 9))",
    "x = 'x'.center(10 ** 10)",
    "x = bytearray(10 ** 10)",
    "x = sorted(range(10 ** 9))",
    "x = dict.fromkeys(range(10 ** 9))",
    "x = set(range(10 ** 9))",
    "x = ('a' * 10 ** 6).replace('', 'b' * 1000)",
    "x = f'{1:>10000000000}'",
    "import itertools\nx = list(itertools.product(range(100), repeat=10))",
]

_CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from sandbox.limits import Limits
from tests.sandbox.attacks.runner import assert_healthy, run_body
# Room for the interpreter plus a little: the guest runs out long before the machine does.
size_kib = int(next(l for l in open('/proc/self/status') if l.startswith('VmSize')).split()[1])
limit = size_kib * 1024 + 160 * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
results = []
for body in json.loads(sys.argv[2]):
    r = run_body(body, limits=Limits(timeout_s=20.0))
    results.append([r.status, r.error_type])
assert_healthy()
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def rlimited_results() -> list[list[str]]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), json.dumps(RLIMITED)],
                          capture_output=True, text=True, timeout=50, check=False)
    assert proc.returncode == 0, proc.stderr
    results: list[list[str]] = json.loads(proc.stdout)
    return results


@pytest.mark.parametrize("index", range(len(RLIMITED)), ids=RLIMITED)
def test_rlimit_turns_big_allocations_into_memory_limit(
        rlimited_results: list[list[str]], index: int) -> None:
    assert rlimited_results[index] == ["memory_limit", "MemoryError"]
