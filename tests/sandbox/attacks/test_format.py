"""Format-string attribute reads ("{0.__class__}"): str.format and Formatter are unreachable."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

REFUSED = "is not allowed in actions: use an f-string"

CASES = [
    ("x = '{0.__class__}'.format(1)", "error", "AttributeError", "str.format " + REFUSED),
    ("x = '{a.__class__}'.format_map({'a': 1})", "error", "AttributeError",
     "str.format_map " + REFUSED),
    ("x = str.format('{0.__class__}', 1)", "error", "AttributeError", "str.format " + REFUSED),
    ("x = getattr('{0.__class__}', 'format')(1)", "error", "AttributeError",
     "str.format " + REFUSED),
    ("x = getattr('{0.__class__}', 'format', None)", "error", "AttributeError",
     "str.format " + REFUSED),
    ("import functools\nx = functools.reduce(getattr, ['format'], '{0.__class__}')", "error",
     "AttributeError", "str.format " + REFUSED),
    # A str subclass (whose inherited format the guard refuses too) cannot even be defined.
    ("class S(str):\n    pass\nx = S('{0.__class__}').format(1)", "error", "TypeError",
     "class S cannot derive from str"),
    ("import string\nx = string.Formatter", "error", "AttributeError",
     "module 'string' has no attribute 'Formatter' available to actions"),
    ("from string import Formatter", "error", "ImportError", "cannot import name 'Formatter'"),
    ("from string import Template", "error", "ImportError", "cannot import name 'Template'"),
    ("x = f'{().__class__}'", "compile", None, '"__class__" is an invalid attribute name'),
    ("x = format(1, '{0.__class__}')", "error", "ValueError", "Invalid format specifier"),
    # What is left is safe: f-strings with !r, %-formatting (item reads only), format specs.
    ("print(f'{event.user!r:.12}|{3.14159:.2f}')", "ok", None, "{'user_id': |3.14\n"),
    ("print('%(a)s-%(b)05d' % {'a': 'x', 'b': 42})", "ok", None, "x-00042\n"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_format_attribute_reads_are_refused(body: str, status: str, error_type: str | None,
                                            fragment: str) -> None:
    expect(body, status, error_type, fragment)
