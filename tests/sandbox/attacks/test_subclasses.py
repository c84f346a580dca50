"""`__subclasses__` walks: no path from an object to its class graph."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

CASES = [
    ("x = ().__class__.__bases__[0].__subclasses__()", "compile", None,
     '"__subclasses__" is an invalid attribute name'),
    ("x = getattr((), '__cl' + 'ass__')", "error", "AttributeError",
     '"__class__" is an invalid attribute name'),
    ("x = getattr(int, '__subclasses__')()", "error", "AttributeError",
     '"__subclasses__" is an invalid attribute name'),
    ("x = type(())", "error", "NameError", "name 'type' is not defined"),
    ("x = object", "error", "NameError", "name 'object' is not defined"),
    ("x = int.mro()", "error", "AttributeError", '"mro" is a restricted name in actions'),
    ("x = getattr(str, 'mro')", "error", "AttributeError", '"mro" is a restricted name'),
    ("x = [].__class__.__mro__", "compile", None, '"__mro__" is an invalid attribute name'),
    ("try:\n    1/0\nexcept Exception as e:\n    getattr(e, '__class__')", "error",
     "AttributeError", '"__class__" is an invalid attribute name'),
    ("class A:\n    pass\nx = getattr(A, '__base__')", "error", "AttributeError",
     '"__base__" is an invalid attribute name'),
    ("class A:\n    __slots__ = ()", "compile", None, '"__slots__" is an invalid variable name'),
    ("class A(metaclass=int):\n    pass", "compile", None,
     'The keyword argument "metaclass" is not allowed'),
    ("x = vars(int)", "error", "NameError", "name 'vars' is not defined"),
    ("x = dir(int)", "error", "NameError", "name 'dir' is not defined"),
    ("x = super", "error", "NameError", "name 'super' is not defined"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_subclass_walks_are_refused(body: str, status: str, error_type: str | None,
                                    fragment: str) -> None:
    expect(body, status, error_type, fragment)
