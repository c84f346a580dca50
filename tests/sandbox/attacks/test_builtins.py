"""`__builtins__` and `__import__` tricks, and the builtins that are simply absent."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

CASES = [
    ("x = __builtins__", "compile", None, '"__builtins__" is an invalid variable name'),
    ("x = __import__('os')", "compile", None, '"__import__" is an invalid variable name'),
    ("import json\nx = getattr(json, '__import__')", "error", "AttributeError",
     '"__import__" is an invalid attribute name'),
    ("x = globals()", "error", "NameError", "name 'globals' is not defined"),
    ("x = locals()", "error", "NameError", "name 'locals' is not defined"),
    ("x = vars()", "error", "NameError", "name 'vars' is not defined"),
    ("x = getattr(event, '__cl' + 'ass__')", "error", "AttributeError",
     '"__class__" is an invalid attribute name'),
    ("eval('1')", "compile", None, "Eval calls are not allowed."),
    ("exec('1')", "compile", None, "Exec calls are not allowed."),
    ("f = eval\nf('1')", "error", "NameError", "name 'eval' is not defined"),
    ("compile('1', 'x', 'eval')", "error", "NameError", "name 'compile' is not defined"),
    ("open('/etc/passwd')", "error", "NameError", "name 'open' is not defined"),
    ("input()", "error", "NameError", "name 'input' is not defined"),
    ("breakpoint()", "compile", None, '"breakpoint" is a reserved name.'),
    ("help()", "error", "NameError", "name 'help' is not defined"),
    ("memoryview(b'x')", "error", "NameError", "name 'memoryview' is not defined"),
    ("exit()", "error", "NameError", "name 'exit' is not defined"),
    ("import builtins", "compile", None, '"builtins" is a reserved name.'),
    ("setattr(len, 'x', 1)", "error", "TypeError", "cannot modify a builtin_function_or_method"),
    ("setattr(event, 'user', 1)", "error", "TypeError", "cannot modify a EventView"),
    ("import json\ndelattr(json, '__doc__')", "error", "AttributeError",
     '"__doc__" is an invalid attribute name'),
    ("x = {}\nsetattr(x, '__class__', int)", "error", "AttributeError",
     '"__class__" is an invalid attribute name'),
    ("print(hasattr((), '__class__'), hasattr((), 'count'))", "ok", None, "False True\n"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_builtin_tricks_are_refused(body: str, status: str, error_type: str | None,
                                    fragment: str) -> None:
    expect(body, status, error_type, fragment)
