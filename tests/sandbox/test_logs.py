"""print() capture: per run, print's own sep/end semantics, capped with a truncation marker."""
from __future__ import annotations

import pytest

from sandbox.limits import Limits
from sandbox.logs import LogBuffer
from tests.sandbox.attacks.runner import handler_source, run_body, run_source


@pytest.mark.parametrize(("body", "logs"), [
    ("print('hello')", "hello\n"),
    ("print('a', 1, None, [2])", "a 1 None [2]\n"),
    ("print('a', 'b', sep='-', end='!')\nprint()", "a-b!\n"),
    ("print('x', end='')\nprint('y', sep=None, end=None)", "xy\n"),
    ("print(event.user.email)", "a@example.com\n"),
    ("def helper():\n    print('in helper')\nhelper()\nprint('after')", "in helper\nafter\n"),
    ("print('\u00e9\u4e2d\U0001f600')", "\u00e9\u4e2d\U0001f600\n"),
    ("print(printed == '')", "True\n"),
])
def test_print_is_captured(body: str, logs: str) -> None:
    result = run_body(body)
    assert (result.status, result.logs) == ("ok", logs)


def test_module_level_print_is_captured_too() -> None:
    result = run_source("print('loading')\n" + handler_source("print('running')"))
    assert result.logs == "loading\nrunning\n"


def test_logs_are_kept_when_the_action_fails() -> None:
    result = run_body("print('before')\nraise ValueError('bad')")
    assert (result.status, result.logs, result.message) == ("error", "before\n", "bad")


def test_print_to_a_file_is_refused() -> None:
    result = run_body("print('x', file=event)")
    assert (result.error_type, result.message) == ("TypeError",
                                                   "print(file=...) is not supported in actions")


def test_print_sep_must_be_text() -> None:
    result = run_body("print('a', 'b', sep=1)")
    assert (result.error_type, result.message) == ("TypeError",
                                                   "sep must be None or a string, not int")


def test_output_is_capped_with_a_marker() -> None:
    result = run_body("for i in range(100):\n    print('0123456789')",
                      limits=Limits(log_limit_bytes=25))
    assert result.logs == "0123456789\n0123456789\n012\n... [log truncated: 1075 bytes dropped]"


def test_cap_holds_for_a_single_huge_print() -> None:
    result = run_body("print('x' * 1000000)")
    assert result.logs == "x" * 16384 + "\n... [log truncated: 983617 bytes dropped]"


def test_cut_never_splits_a_character() -> None:
    buffer = LogBuffer(5)
    buffer.write("ab\u00e9\u00e9")  # 2 + 2 + 2 bytes: the second é does not fit
    assert buffer.text() == "ab\u00e9\n... [log truncated: 2 bytes dropped]"


def test_each_run_has_its_own_logs() -> None:
    assert [run_body(f"print({n})").logs for n in range(3)] == ["0\n", "1\n", "2\n"]
