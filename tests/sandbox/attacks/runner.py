"""Compile-and-run helpers shared by the sandbox policy tests: snippets in, plain results out."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from sandbox.compiler import compile_action
from sandbox.execute import run_action
from sandbox.limits import Limits
from sandbox.outcome import ActionOutcome

HANDLER = "on_execute_post_login"
EVENT: dict[str, Any] = {"user": {"user_id": "auth0|1", "email": "a@example.com"}}
# A short polite timeout keeps loop tests fast; the value is generous for anything legitimate.
FAST = Limits(timeout_s=0.3)


@dataclass(frozen=True)
class Result:
    """'compile' refusals and run outcomes in one shape, for table asserts."""

    status: str  # "compile" or an ActionOutcome status
    error_type: str | None
    message: str
    line: int | None
    logs: str = ""
    outcome: ActionOutcome | None = None


def handler_source(body: str) -> str:
    return f"def {HANDLER}(event, api):\n" + textwrap.indent(textwrap.dedent(body), "    ") + "\n"


def run_source(source: str, *, limits: Limits = FAST, event: dict[str, Any] | None = None,
               secrets: dict[str, str] | None = None) -> Result:
    compiled = compile_action(source, limits=limits)
    if not compiled.ok:
        first = compiled.errors[0]
        return Result("compile", None, first.message, first.line)
    assert compiled.code is not None
    outcome = run_action(compiled.code, trigger_id="post-login", handler=HANDLER,
                         event=EVENT if event is None else event, secrets=secrets or {},
                         cache={}, limits=limits)
    error = outcome.error or {}
    return Result(outcome.status, error.get("type"), error.get("message") or "",
                  error.get("line"), outcome.logs, outcome)


def run_body(body: str, **kwargs: Any) -> Result:
    """Run `body` as the post-login handler's body (line numbers: body line N is line N + 1)."""
    return run_source(handler_source(body), **kwargs)


def assert_healthy() -> None:
    """After an attack, the same process still runs a normal action."""
    result = run_body("import json\nprint(json.dumps({'ok': 1 + 1}))\n"
                      "api.access_token.set_custom_claim('https://x/ok', True)")
    assert (result.status, result.logs) == ("ok", '{"ok": 2}\n')
    assert result.outcome is not None
    assert result.outcome.effects == [
        {"op": "access_token.set_custom_claim", "args": {"name": "https://x/ok", "value": True}}]


def expect(body: str, status: str, error_type: str | None, fragment: str, **kwargs: Any) -> Result:
    """Run an attack snippet; assert the exact status and error type, a message fragment, health."""
    result = run_body(body, **kwargs)
    assert (result.status, result.error_type) == (status, error_type), result
    assert fragment in (result.message if status != "ok" else result.logs), result
    if status != "ok":
        assert result.outcome is None or result.outcome.effects == []
    assert_healthy()
    return result
