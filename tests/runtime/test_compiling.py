"""The management API's compiler process: errors as data, overruns contained, pool replaced."""
from __future__ import annotations

import pytest

from runtime import compiling

BIG = "def on_execute_post_login(event, api):\n" + "".join(
    f"    x{i} = event.user.email + 'abc{i}'\n" for i in range(6000))


async def test_errors_come_back_with_lines() -> None:
    compiler = compiling.Compiler()
    try:
        assert await compiler.errors("def on_execute_post_login(event, api):\n    pass\n") == []
        [error] = await compiler.errors("def f(:\n")
        assert error["line"] == 1
        [error] = await compiler.errors("x = 1\ny = __import__('os')\n")
        assert error["line"] == 2
    finally:
        compiler._discard(kill=True)


async def test_an_overrun_is_a_compile_error_and_the_next_compile_works(
        monkeypatch: pytest.MonkeyPatch) -> None:
    compiler = compiling.Compiler()
    try:
        await compiler.errors("x = 1\n")  # the pool is up: the timeout measures compiling only
        monkeypatch.setattr(compiling, "COMPILE_TIMEOUT_S", 0.01)
        [error] = await compiler.errors(BIG)
        assert error == {"line": 1, "column": 0, "message": "compiling took longer than 0 s"}
        monkeypatch.setattr(compiling, "COMPILE_TIMEOUT_S", 30.0)
        assert await compiler.errors("x = 1\n") == []
    finally:
        compiler._discard(kill=True)
