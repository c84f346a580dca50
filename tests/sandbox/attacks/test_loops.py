"""Infinite loops end on the polite alarm, even when the loop catches everything.

The hard layer (SIGKILL at the deadline, for loops stuck in C) is worker/'s, tested there.
"""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import FAST, expect

MESSAGE = "action exceeded its 0.3 s time limit"

CASES = [
    "while True:\n    pass",
    "import itertools\nfor i in itertools.count():\n    pass",
    ("while True:\n    try:\n        while True:\n            pass\n"
    "    except BaseException:\n        pass"),
    "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
    "try:\n    while True:\n        pass\nexcept BaseException:\n    while True:\n        pass",
    # `return`/`continue`/`yield` in finally would swallow the exception: finally re-raises first.
    ("def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\n"
    "while True:\n    f()"),
    "while True:\n    try:\n        while True:\n            pass\n    finally:\n        continue",
    ("def h():\n    try:\n        while True:\n            pass\n    finally:\n        yield 1\n"
    "while True:\n    next(h())"),
    ("def f():\n    while True:\n        try:\n            f()\n        except BaseException:\n"
    "            pass\nf()"),
]


@pytest.mark.parametrize("body", CASES)
def test_infinite_loops_time_out(body: str) -> None:
    result = expect(body, "timeout", "ActionTimeout", MESSAGE)
    assert result.outcome is not None and result.outcome.error is not None
    assert result.outcome.error["class"] == "action_timeout"
    # The line where the loop was stopped: inside the snippet (handler line 1 is the def).
    assert result.line is not None and 2 <= result.line <= 2 + body.count("\n")
    # Generous: the alarm fires at 0.3 s; only a hang would take this long.
    assert result.outcome.duration_ms < 10_000 * FAST.timeout_s
