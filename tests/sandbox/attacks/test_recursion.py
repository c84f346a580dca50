"""Deep recursion is an ordinary action error; the process keeps running actions."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

CASES = [
    ("def f(n):\n    return f(n + 1)\nf(0)", "error", "RecursionError",
     "maximum recursion depth exceeded"),
    ("def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\na(0)", "error", "RecursionError",
     "maximum recursion depth exceeded"),
    ("class A:\n    def __init__(self):\n        A()\nA()", "error", "RecursionError",
     "maximum recursion depth exceeded"),
    ("f = lambda n: f(n)\nf(1)", "error", "RecursionError", "maximum recursion depth exceeded"),
    # Deep data: the C encoders and repr check the recursion limit too.
    ("import json\nx = []\nfor i in range(100000):\n    x = [x]\njson.dumps(x)", "error",
     "RecursionError", "maximum recursion depth exceeded"),
    ("x = []\nfor i in range(100000):\n    x = [x]\nrepr(x)", "error", "RecursionError",
     "maximum recursion depth exceeded"),
    (("def f(n):\n    try:\n        return f(n + 1)\n    except RecursionError:\n"
     "        return n\nprint(f(0) > 100)"), "ok", None, "True\n"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_deep_recursion_is_an_action_error(body: str, status: str, error_type: str | None,
                                           fragment: str) -> None:
    expect(body, status, error_type, fragment)
