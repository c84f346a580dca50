"""What the action puts into the outcome's text crosses the child's pipe (msgpack, UTF-8).

A lone surrogate in a log line or an error message used to make the child's reply
unencodable, so the run came back as a platform error instead of the action's own result.
"""
from __future__ import annotations

import msgpack
import pytest

from tests.sandbox.attacks.runner import expect

# (snippet, status, error type, message or logs)
CASES = [
    ("print('a\\ud800b')", "ok", None, "a\\ud800b\n"),
    ("print('\\udcff' * 3, end='')", "ok", None, "\\udcff\\udcff\\udcff"),
    ("raise ValueError('bad \\ud800')", "error", "ValueError", "bad \\ud800"),
    ("raise KeyError('\\ud800')", "error", "KeyError", "'\\ud800'"),
    ("print('fine é ✓')", "ok", None, "fine é ✓\n"),
    # Effects never carry one: the api refuses the value.
    ("api.access.deny('\\ud800')", "error", "ApiUsageError",
     "api.access.deny: value contains a lone surrogate, which is not valid UTF-8"),
    # A MemoryError the action raises itself is its own error, described under the alarm;
    # only an allocation failure (no arguments) or the size guard is a memory_limit.
    ("raise MemoryError([0] * 3)", "error", "MemoryError", "[0, 0, 0]"),
    ("class Boom(ValueError):\n    pass\nraise Boom('mine')", "error", "Boom", "mine"),
    # `MemoryError` in an action is its own class: raised by hand, it is never a memory kill.
    ("raise MemoryError", "error", "MemoryError", ""),
    ("try:\n    bytearray(2 ** 40)\nexcept MemoryError:\n    print('caught')",
     "memory_limit", "MemoryError", "out of memory"),
]


@pytest.mark.parametrize(("body", "status", "error_type", "text"), CASES)
def test_outcome_text_is_valid_utf8(body: str, status: str, error_type: str | None,
                                    text: str) -> None:
    result = expect(body, status, error_type, text)
    assert (result.message if status != "ok" else result.logs) == text
    assert result.outcome is not None
    msgpack.packb(result.outcome.to_dict(), use_bin_type=True)  # raised UnicodeEncodeError
