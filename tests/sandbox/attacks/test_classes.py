"""Guest `class` statements: allow-listed bases, no reviewed-out dunders, no metaclass tricks."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

BASES = "an action's classes may derive only from its own classes and plain exception classes"
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
    # Only __init__ may be defined: C code calls the others in the middle of container
    # operations (CPython's use-after-free bugs: deque.index with a clearing __eq__, ...).
    ("class A:\n    def __eq__(self, other):\n        return True", "compile", None,
     "special method __eq__ is not allowed in an action's class"),
    ("class A:\n    def __lt__(self, other):\n        return True", "compile", None,
     "special method __lt__ is not allowed"),
    ("class A:\n    def __contains__(self, item):\n        return True", "compile", None,
     "special method __contains__ is not allowed"),
    ("class A:\n    def __hash__(self):\n        return 1", "compile", None,
     "special method __hash__ is not allowed"),
    ("class A:\n    def __index__(self):\n        return 1", "compile", None,
     "special method __index__ is not allowed"),
    # Exception types whose C code trusts instance fields are not bases (a UnicodeDecodeError
    # subclass with start=-8 read the child's memory).
    ("class U(UnicodeDecodeError):\n    pass", "error", "TypeError",
     "class U cannot derive from UnicodeDecodeError: " + BASES),
    ("class U(UnicodeError):\n    pass", "error", "TypeError", "class U cannot derive from UnicodeError"),
    ("class O(OSError):\n    pass", "error", "TypeError", "class O cannot derive from OSError"),
    ("class S(StopIteration):\n    pass", "error", "TypeError",
     "class S cannot derive from StopIteration"),
    ("class M(MemoryError):\n    pass", "error", "TypeError", "class M cannot derive from MemoryError"),
    ("class A:\n    pass\nclass B(A, UnicodeEncodeError):\n    pass", "error", "TypeError",
     "class B cannot derive from UnicodeEncodeError"),
    ("class A:\n    def __del__(self):\n        pass", "compile", None,
     "special method __del__ is not allowed in an action's class"),
    ("class A:\n    def __str__(self):\n        return 'x'", "compile", None,
     "special method __str__ is not allowed in an action's class"),
    ("class A:\n    def __getattribute__(self, name):\n        pass", "compile", None,
     "special method __getattribute__ is not allowed in an action's class"),
    ("class A:\n    def __init_subclass__(cls):\n        pass", "compile", None,
     "special method __init_subclass__ is not allowed in an action's class"),
    ("class A:\n    def __class_getitem__(cls, item):\n        pass", "compile", None,
     "special method __class_getitem__ is not allowed in an action's class"),
    ("class A:\n    def __reduce_ex__(self, protocol):\n        pass", "compile", None,
     "special method __reduce_ex__ is not allowed in an action's class"),
    ("class A:\n    def __exit__(self, *exc):\n        return True", "compile", None,
     "special method __exit__ is not allowed in an action's class"),
    ("class A:\n    __hash__ = None", "compile", None, '"__hash__" is an invalid variable name'),
    ("class A:\n    pass\nsetattr(A, '__del__', len)", "error", "AttributeError",
     '"__del__" is an invalid attribute name'),
    ("x = super", "error", "NameError", "name 'super' is not defined"),
    # What stays allowed: own hierarchies, plain exception subclasses, library exception classes.
    ("class E(KeyError):\n    pass\ntry:\n    raise E('k')\nexcept LookupError as e:\n    print(repr(e))",
     "ok", None, "E('k')\n"),
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


def test_a_refused_special_method_is_reported_at_its_line() -> None:
    result = expect("x = 1\nclass A:\n    def __init__(self):\n        pass\n"
                    "    def __lt__(self, other):\n        return True",
                    "compile", None, "special method __lt__")
    assert result.line == 6  # the runner wraps the body in a handler: line 1 is its `def`
