"""Guest code in finalizers: Python swallows their exceptions ("unraisable"), the run does not.

A generator's `finally` runs when the generator is collected: under the alarm while the run is
on, or after it, when the run's globals are already cleared.
"""
from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.sandbox.attacks.runner import assert_healthy, run_body

LOOPING_FINALLY = "def g(box):\n    try:\n        yield 1\n    finally:\n{loop}"
SPIN = "        while True:\n            pass\n"
SWALLOW = ("        while True:\n            try:\n                while True:\n"
           "                    pass\n            except BaseException:\n                pass\n")


@contextmanager
def unraisables() -> Iterator[list[str]]:
    """What Python reported as unraisable meanwhile (in the child, stderr is /dev/null)."""
    seen: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(f"{u.exc_type.__name__}: {u.exc_value}")
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


@pytest.mark.parametrize("loop", [SPIN, SWALLOW], ids=["spin", "swallow"])
def test_timeout_swallowed_by_a_finalizer_still_ends_the_run(loop: str) -> None:
    # The generator is closed when the handler's frame ends, with its effect already recorded.
    body = LOOPING_FINALLY.format(loop=loop) + "it = g(None)\nnext(it)\napi.access.deny('late')"
    with unraisables() as seen:
        result = run_body(body)
    assert (result.status, result.error_type) == ("timeout", "ActionTimeout")
    assert result.outcome is not None and result.outcome.effects == []
    assert seen[0] == "ActionTimeout: action exceeded its 0.3 s time limit"
    assert_healthy()


def test_finalizer_after_the_run_stops_at_its_first_hook() -> None:
    # A cycle keeps the generator until a later collection, when no alarm is armed: its
    # `finally` would spin forever, but its first statement is the `_deadline_` hook, a global
    # of the run that is gone.
    body = (LOOPING_FINALLY.format(loop=SPIN) + "class Box:\n    pass\nbox = Box()\n"
            "box.it = g(box)\nnext(box.it)\nprint('parked')")
    with unraisables() as seen:
        result = run_body(body)
        assert (result.status, result.logs) == ("ok", "parked\n")
        gc.collect()
    assert seen == ["NameError: name '_deadline_' is not defined"]
    assert_healthy()
