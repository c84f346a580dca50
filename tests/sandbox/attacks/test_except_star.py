"""`try/except*` has no guarded form in RestrictedPython: refused at compile time, anywhere."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect, run_source

REFUSED = "try/except* (exception groups) is not allowed"

CASES = [
    ("try:\n    pass\nexcept* ValueError:\n    pass", "compile", None, REFUSED),
    ("try:\n    pass\nexcept* (ValueError, KeyError) as eg:\n    x = eg", "compile", None,
     REFUSED),
    ("def f():\n    try:\n        pass\n    except* Exception:\n        pass", "compile", None,
     REFUSED),
    ("raise ExceptionGroup('g', [ValueError()])", "error", "NameError",
     "name 'ExceptionGroup' is not defined"),
    ("raise BaseExceptionGroup('g', [ValueError()])", "error", "NameError",
     "name 'BaseExceptionGroup' is not defined"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_except_star_is_refused(body: str, status: str, error_type: str | None,
                                fragment: str) -> None:
    expect(body, status, error_type, fragment)


def test_except_star_at_module_level_names_its_line() -> None:
    result = run_source("x = 1\n\ntry:\n    pass\nexcept* ValueError:\n    pass\n")
    assert (result.status, result.line, result.message) == ("compile", 3, REFUSED)
