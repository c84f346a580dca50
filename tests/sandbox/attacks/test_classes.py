"""Guest `class` statements: allow-listed bases, no reviewed-out dunders, no metaclass tricks."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

BASES = "an action's classes may derive only from its own classes and exception classes"
CONFLICT = "metaclass conflict: the metaclass of a derived class must be a (non-strict) subclass"

CASES = [
    # A builtin value type's subclass is taken for a plain value by library code (and cached).
    ("class S(str):\n    pass", "error", "TypeError", "class S cannot derive from str: " + BASES),
    ("class I(int):\n    pass", "error", "TypeError", "class I cannot derive from int"),
    ("class T(tuple):\n    pass", "error", "TypeError", "class T cannot derive from tuple"),
    ("class D(dict):\n    pass", "error", "TypeError", "class D cannot derive from dict"),
    ("import collections\nclass C(collections.Counter):\n    pass", "error", "TypeError",
     "class C cannot derive from Counter"),
    ("import datetime\nclass D(datetime.datetime):\n    pass", "error", "TypeError",
     "class D cannot derive from datetime"),
    # __mro_entries__ of a generic alias resolves to the builtin: refused all the same.
    ("class L(list[int]):\n    pass", "error", "TypeError", "class L cannot derive from list"),
    ("class A:\n    pass\nclass B(A, bytes):\n    pass", "error", "TypeError",
     "class B cannot derive from bytes"),
    # Objects as bases (the old `class X(module)` constructor trick) hit a metaclass conflict.
    ("import json\nclass M(json):\n    pass", "error", "TypeError", CONFLICT),
    ("class E(event):\n    pass", "error", "TypeError", CONFLICT),
    ("class N(api.user):\n    pass", "error", "TypeError", CONFLICT),
    ("class F(len):\n    pass", "error", "TypeError", CONFLICT),
    ("class A(metaclass=int):\n    pass", "compile", None,
     'The keyword argument "metaclass" is not allowed'),
    # Only __init__, __contains__ and the comparisons may be defined (RestrictedPython's list).
    ("class A:\n    def __del__(self):\n        pass", "compile", None,
     '"__del__" is an invalid variable name because it starts with "_"'),
    ("class A:\n    def __str__(self):\n        return 'x'", "compile", None,
     '"__str__" is an invalid variable name'),
    ("class A:\n    def __getattribute__(self, name):\n        pass", "compile", None,
     '"__getattribute__" is an invalid variable name'),
    ("class A:\n    def __init_subclass__(cls):\n        pass", "compile", None,
     '"__init_subclass__" is an invalid variable name'),
    ("class A:\n    def __class_getitem__(cls, item):\n        pass", "compile", None,
     '"__class_getitem__" is an invalid variable name'),
    ("class A:\n    def __reduce_ex__(self, protocol):\n        pass", "compile", None,
     '"__reduce_ex__" is an invalid variable name'),
    ("class A:\n    def __exit__(self, *exc):\n        return True", "compile", None,
     '"__exit__" is an invalid variable name'),
    ("class A:\n    __hash__ = None", "compile", None, '"__hash__" is an invalid variable name'),
    ("class A:\n    pass\nsetattr(A, '__del__', len)", "error", "AttributeError",
     '"__del__" is an invalid attribute name'),
    ("x = super", "error", "NameError", "name 'super' is not defined"),
    # What stays allowed: own hierarchies, exception subclasses, library exception classes.
    (("class A:\n    def __init__(self, n):\n        self.n = n\nclass B(A):\n    pass\n"
      "print(B(3).n, isinstance(B(1), A))"), "ok", None, "3 True\n"),
    (("import json\nclass Bad(json.JSONDecodeError):\n    pass\nclass Worse(Bad):\n    pass\n"
      "try:\n    raise Worse('m', 'doc', 1)\nexcept ValueError as e:\n    print(e.pos, e.args)"),
     "ok", None, "1 ('m: line 1 column 2 (char 1)',)\n"),
    ("class A(foo=1):\n    pass\nprint('keywords dropped')", "ok", None, "keywords dropped\n"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_class_statements_are_contained(body: str, status: str, error_type: str | None,
                                        fragment: str) -> None:
    expect(body, status, error_type, fragment)
