"""Frame and traceback walking: every path from guest code to a frame is refused."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

CASES = [
    ("import sys\nsys.exc_info()", "error", "ImportError", "import of 'sys' is not allowed"),
    ("import inspect", "error", "ImportError", "import of 'inspect' is not allowed"),
    ("import traceback", "error", "ImportError", "import of 'traceback' is not allowed"),
    ("try:\n    1/0\nexcept Exception as e:\n    tb = e.__traceback__", "compile", None,
     '"__traceback__" is an invalid attribute name'),
    ("try:\n    1/0\nexcept Exception as e:\n    tb = getattr(e, '__traceback__')", "error",
     "AttributeError", '"__traceback__" is an invalid attribute name'),
    ("x = 1\nf = x.tb_frame", "compile", None, '"tb_frame" is a restricted name'),
    ("x = 1\nf = x.tb_next", "compile", None, '"tb_next" is a restricted name'),
    ("x = 1\nf = x.f_back", "compile", None, '"f_back" is a restricted name'),
    ("x = 1\nf = x.f_globals", "compile", None, '"f_globals" is a restricted name'),
    ("x = 1\nf = x.f_locals", "compile", None, '"f_locals" is a restricted name'),
    ("x = 1\nf = x.f_builtins", "compile", None, '"f_builtins" is a restricted name'),
    ("for name in ['tb_frame', 'f_back', 'f_globals', 'f_code']:\n    getattr(1, name)",
     "error", "AttributeError", '"tb_frame" is a restricted name in actions'),
    ("def g():\n    yield 1\nf = g().gi_frame", "compile", None, '"gi_frame" is a restricted name'),
    ("def g():\n    yield 1\nf = getattr(g(), 'gi_frame')", "error", "AttributeError",
     '"gi_frame" is a restricted name in actions'),
    ("async def c():\n    pass", "compile", None,
     "async def is not supported: write a synchronous handler"),
    ("x = 1\nf = x.cr_frame", "compile", None, '"cr_frame" is a restricted name'),
    ("x = 1\nf = x.ag_frame", "compile", None, '"ag_frame" is a restricted name'),
    ("f = (lambda: 1).__code__", "compile", None, '"__code__" is an invalid attribute name'),
    ("f = getattr(lambda: 1, '__globals__')", "error", "AttributeError",
     '"__globals__" is an invalid attribute name'),
    # Closures, defaults and bound receivers: every way back to a function's internals.
    ("def f():\n    x = 1\n    return lambda: x\nc = getattr(f(), '__closure__')", "error",
     "AttributeError", '"__closure__" is an invalid attribute name'),
    ("f = getattr(lambda a=event: a, '__defaults__')", "error", "AttributeError",
     '"__defaults__" is an invalid attribute name'),
    ("import json\nm = getattr(json.dumps, '__wrapped__', None)", "error", "AttributeError",
     '"__wrapped__" is an invalid attribute name'),
    ("import math\nm = getattr(math.sqrt, '__self__')", "error", "AttributeError",
     '"__self__" is an invalid attribute name'),
    ("m = getattr(api.user.set_app_metadata, '__func__')", "error", "AttributeError",
     '"__func__" is an invalid attribute name'),
    ("r = getattr(event, '__reduce_ex__')(2)", "error", "AttributeError",
     '"__reduce_ex__" is an invalid attribute name'),
    # AttributeError.obj is the object a library failed on: possibly one of its internals.
    ("try:\n    (1).nope\nexcept AttributeError as e:\n    print(e.obj)", "error",
     "AttributeError", '"obj" of an exception is a restricted name'),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_frame_walking_is_refused(body: str, status: str, error_type: str | None,
                                  fragment: str) -> None:
    expect(body, status, error_type, fragment)
