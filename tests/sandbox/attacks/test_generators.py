"""Generator frames and send/throw tricks: generators work, their frames stay out of reach."""
from __future__ import annotations

import pytest

from tests.sandbox.attacks.runner import expect

GEN = "def g():\n    x = yield 1\n    yield x\n"

CASES = [
    (GEN + "f = g().gi_frame.f_back", "compile", None, '"f_back" is a restricted name'),
    (GEN + "f = g().gi_frame", "compile", None, '"gi_frame" is a restricted name'),
    (GEN + "c = g().gi_code", "compile", None, '"gi_code" is a restricted name'),
    (GEN + "c = g().gi_yieldfrom", "compile", None, '"gi_yieldfrom" is a restricted name'),
    (GEN + "f = getattr(g(), 'gi_frame')", "error", "AttributeError",
     '"gi_frame" is a restricted name in actions'),
    (GEN + "f = getattr(g(), 'gi_code')", "error", "AttributeError",
     '"gi_code" is a restricted name in actions'),
    ("x = (i for i in [1])\nf = getattr(x, 'gi_frame')", "error", "AttributeError",
     '"gi_frame" is a restricted name in actions'),
    (GEN + "it = g()\nnext(it)\nprint(it.send(5), it.gi_running)", "ok", None, "5 False\n"),
    # throw() only raises inside the action's own generator.
    (GEN + "it = g()\nnext(it)\nit.throw(ValueError('thrown'))", "error", "ValueError",
     "thrown"),
    (("def h():\n    try:\n        yield 1\n    finally:\n        yield 2\n"
     "it = h()\nnext(it)\nit.close()"), "error", "RuntimeError", "generator ignored GeneratorExit"),
    # A generator's exception keeps its traceback to itself.
    (GEN + "it = g()\ntry:\n    it.throw(KeyError('k'))\nexcept KeyError as e:\n"
     "    tb = getattr(e, '__traceback__')", "error", "AttributeError",
     '"__traceback__" is an invalid attribute name'),
]


@pytest.mark.parametrize(("body", "status", "error_type", "fragment"), CASES)
def test_generator_frames_are_unreachable(body: str, status: str, error_type: str | None,
                                          fragment: str) -> None:
    expect(body, status, error_type, fragment)
