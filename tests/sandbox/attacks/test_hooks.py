"""Shadowing the guard hooks (`_getattr_`, `_write_`, ...) with a local of the same name.

CVE-2026-55830 (GHSA-ffg3-p8fm-mjx2): RestrictedPython < 8.3 did not check positional-only
parameter names, so `def f(_getattr_=evil, /)` replaced the policy inside `f`.
"""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect


def _refused(name: str) -> str:
    return f'"{name}" is an invalid variable name because it starts with "_"'


CASES = [
    ("def f(_getattr_=getattr, /):\n    return ().__class__", "compile", None,
     _refused("_getattr_")),
    ("f = lambda _write_=None, /: 1", "compile", None, _refused("_write_")),
    ("def f(a, _getitem_=None, /, b=1):\n    pass", "compile", None, _refused("_getitem_")),
    ("def f(*, _print_=None):\n    pass", "compile", None, _refused("_print_")),
    ("def f(*_getiter_):\n    pass", "compile", None, _refused("_getiter_")),
    ("def f(**_apply_):\n    pass", "compile", None, _refused("_apply_")),
    ("(_deadline_ := len)", "compile", None, _refused("_deadline_")),
    ("for _getattr_ in [len]:\n    pass", "compile", None, _refused("_getattr_")),
    ("with len as _write_:\n    pass", "compile", None, _refused("_write_")),
    ("try:\n    pass\nexcept Exception as _deadline_:\n    pass", "compile", None,
     _refused("_deadline_")),
    ("x = [1 for _getiter_ in [len]]", "compile", None, _refused("_getiter_")),
    ("import json as _getattr_", "compile", None, _refused("_getattr_")),
    ("class _write_:\n    pass", "compile", None, _refused("_write_")),
    ("def _getattr_():\n    pass", "compile", None, _refused("_getattr_")),
    ("del _print_", "compile", None, _refused("_print_")),
    # `global` names are not checked, but nothing can then bind or read them.
    ("global _print_\nprint(1)", "compile", None,
     "SyntaxError: name '_print_' is used prior to global declaration"),
    ("def f():\n    global _getattr_\n    return 1\nprint(f())", "ok", None, "1\n"),
    # Keyword *arguments* named like a hook bind nothing in the callee.
    ("def f(**kw):\n    return sorted(kw)\nprint(f(_getattr_=1))", "ok", None, "['_getattr_']\n"),
    ("def f(**kw):\n    return kw\nprint(len(f(**{'_write_': len})))", "ok", None, "1\n"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_guard_hooks_cannot_be_shadowed(body: str, status: str, error_type: str | None,
                                        fragment: str) -> None:
    expect(body, status, error_type, fragment)
