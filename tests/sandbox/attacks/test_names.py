"""Underscore names and NFKC-normalised spellings of forbidden names."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

CASES = [
    ("_x = 1", "compile", None, '"_x" is an invalid variable name because it starts with "_"'),
    ("def _f():\n    pass", "compile", None, '"_f" is an invalid variable name'),
    ("x = (lambda _a: 1)", "compile", None, '"_a" is an invalid variable name'),
    ("import json as _j", "compile", None, '"_j" is an invalid variable name'),
    ("from json import dumps as _d", "compile", None, '"_d" is an invalid variable name'),
    ("x = _getattr_", "compile", None, '"_getattr_" is an invalid variable name'),
    # Python normalises identifiers (NFKC) before RestrictedPython sees them.
    ("\uff45\uff56\uff41\uff4c('1')", "compile", None, "Eval calls are not allowed."),
    ("\uff45\uff58\uff45\uff43('1')", "compile", None, "Exec calls are not allowed."),
    # A fullwidth low line may not start a name, but may continue one: `_＿import＿＿`.
    ("\uff3f\uff3fimport\uff3f\uff3f('os')", "compile", None, "invalid character"),
    ("_\uff3fimport\uff3f\uff3f('os')", "compile", None,
     '"__import__" is an invalid variable name'),
    ("x = ()._\uff3fclass\uff3f\uff3f", "compile", None,
     '"__class__" is an invalid attribute name'),
    ("x = ()._\ufe4fclass\ufe33\ufe34", "compile", None,
     '"__class__" is an invalid attribute name'),
    ("_\u0332 = 1", "compile", None, 'is an invalid variable name because it starts with "_"'),
    ("\uff47\uff4c\uff4f\uff42\uff41\uff4c\uff53()", "error", "NameError",
     "name 'globals' is not defined"),
    # Strings are not normalised: the fullwidth name simply does not exist.
    ("getattr((), '\uff3f\uff3fclass\uff3f\uff3f')", "error", "AttributeError",
     "has no attribute"),
    ("x = 1\nx.__roles__ = 1", "compile", None, '"__roles__" is an invalid attribute name'),
    ("printed = 1", "compile", None, '"printed" is a reserved name.'),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_forbidden_names_are_refused(body: str, status: str, error_type: str | None,
                                     fragment: str) -> None:
    expect(body, status, error_type, fragment)
