"""compile_action: good code compiles; every refusal is data with a line; hostile input never crashes."""
from __future__ import annotations

import dataclasses

import pytest

from sandbox.compiler import (
    MAX_AST_DEPTH,
    MAX_BRACKET_DEPTH,
    MAX_INDENT_DEPTH,
    CompileError,
    CompileResult,
    compile_action,
    defined_functions,
)
from sandbox.limits import Limits

GOOD = '''import json

def on_execute_post_login(event, api):
    total: int = 0
    for i, (k, v) in enumerate({"a": 1}.items()):
        total += v
    claims = {f"https://x/{k}": v for k, v in [("a", 1)]}
    print(json.dumps(claims), total)
'''


def test_good_code_compiles() -> None:
    result = compile_action(GOOD)
    assert result.ok and result.errors == () and result.code is not None
    assert result.code.co_filename == "<action>"


@pytest.mark.parametrize(("source", "line", "column", "message"), [
    ("x = (", 1, 5, "SyntaxError: '(' was never closed"),
    ("def f(:\n    pass", 1, 7, "SyntaxError: invalid syntax"),
    ("x = 1\n  y = 2", 2, 2, "IndentationError: unexpected indent"),
    ("x = 1\ny = 'abc", 2, 5, "SyntaxError: unterminated string literal (detected at line 2)"),
])
def test_syntax_errors_have_line_and_column(source: str, line: int, column: int,
                                            message: str) -> None:
    assert compile_action(source).errors == (CompileError(line, column, message),)


@pytest.mark.parametrize(("source", "line", "column", "message"), [
    ("x = 1\ny = x._secret", 2, 5,
     '"_secret" is an invalid attribute name because it starts with "_".'),
    ("_x = 1", 1, 1, '"_x" is an invalid variable name because it starts with "_"'),
    ("exec('x')", 1, 1, "Exec calls are not allowed."),
    ("eval('x')", 1, 1, "Eval calls are not allowed."),
    ("\nasync def on_execute_post_login(event, api):\n    pass", 2, 1,
     "async def is not supported: write a synchronous handler"),
    ("def f():\n    x = [i async for i in y]", 2, 9,
     "SyntaxError: asynchronous comprehension outside of an asynchronous function"),
    ("try:\n    pass\nexcept* E:\n    pass", 1, 1, "try/except* (exception groups) is not allowed"),
    ("match x:\n    case 1:\n        pass", 1, 1, "match statements are not allowed: use if/elif"),
    ("def f():\n    x = 1\n    def g():\n        nonlocal x", 4, 9,
     "Nonlocal statements are not allowed."),
    ("from json import *", 1, 1, '"*" imports are not allowed.'),
    ("x = 1\nx.y: int = 2", 2, 1, "annotated assignment is only allowed to a plain name"),
])
def test_policy_refusals_have_line_and_column(source: str, line: int, column: int,
                                              message: str) -> None:
    assert compile_action(source).errors[0] == CompileError(line, column, message)


def test_every_refusal_is_reported() -> None:
    errors = compile_action("_a = 1\n_b = 2\nexec('x')").errors
    assert [e.line for e in errors] == [1, 2, 3]


NESTED_IFS = "".join("    " * i + "if x:\n" for i in range(200)) + "    " * 200 + "pass\n"


@pytest.mark.parametrize(("source", "line", "column", "message"), [
    ("(" * 10_000 + ")" * 10_000, 1, MAX_BRACKET_DEPTH + 1,
     f"brackets nested deeper than {MAX_BRACKET_DEPTH} levels"),
    (NESTED_IFS, MAX_INDENT_DEPTH + 2, 1, f"blocks nested deeper than {MAX_INDENT_DEPTH} levels"),
    ("x = " + "+".join(["a"] * 200_000), 1, 0, "source is larger than 262144 bytes"),
    ("#" * (2 * 1024 * 1024), 1, 0, "source is larger than 262144 bytes"),
    ("x = " + "+".join(["a"] * 20_000), 1, 0, "source is nested too deeply to compile"),
    ("x = " + "-" * 100_000 + "1", 1, 0, "source is too complex to compile"),
    ("x = f" + "()" * 150, 1, 5, f"expression nested deeper than {MAX_AST_DEPTH} levels"),
    ("x = a" + ".b" * 150, 1, 5, f"expression nested deeper than {MAX_AST_DEPTH} levels"),
    ("x = 1\0", 1, 0, "SyntaxError: source code string cannot contain null bytes"),
    ("x = '\ud800'", 1, 0, ("could not compile: UnicodeEncodeError: 'utf-8' codec can't encode "
     "character '\\ud800' in position 5: surrogates not allowed")),
])
def test_hostile_sources_are_errors_not_crashes(source: str, line: int, column: int,
                                                message: str) -> None:
    result = compile_action(source)
    assert (result.ok, result.code, result.errors) == (False, None,
                                                        (CompileError(line, column, message),))


def test_source_limit_comes_from_limits() -> None:
    result = compile_action("x = 1  # a comment", limits=Limits(source_limit_bytes=10))
    assert result.errors == (CompileError(1, 0, "source is larger than 10 bytes"),)


def test_non_text_source_is_an_error() -> None:
    result = compile_action(b"x = 1")  # type: ignore[arg-type]
    assert result.errors == (CompileError(1, 0, "source must be text, not bytes"),)


def test_results_are_frozen_and_serialisable() -> None:
    result = compile_action("x = (")
    assert result.errors[0].to_json() == {"line": 1, "column": 5,
                                          "message": "SyntaxError: '(' was never closed"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.code = None  # type: ignore[misc]
    assert CompileResult(None).ok is False


@pytest.mark.parametrize(("source", "names"), [
    (GOOD, frozenset({"on_execute_post_login"})),
    ("def a(): pass\nclass B:\n    def c(self): pass\nasync def d(): pass", frozenset({"a"})),
    ("def (", frozenset()),
])
def test_defined_functions(source: str, names: frozenset[str]) -> None:
    assert defined_functions(source) == names
