"""run_action: effects, outcomes for every kind of failure, the polite alarm, fresh namespaces."""
from __future__ import annotations

import signal
from types import FrameType

import pytest

from sandbox.execute import run_action, safe_message
from sandbox.limits import Limits
from sandbox.outcome import ActionOutcome
from tests.sandbox.attacks.runner import EVENT, FAST, HANDLER, handler_source, run_body, run_source


def test_happy_path_records_effects_in_order() -> None:
    result = run_body(
        "api.id_token.set_custom_claim('https://x/email', event.user.email)\n"
        "api.access_token.add_scope('read:all')\nprint(event.secrets.API_KEY)",
        secrets={"API_KEY": "s3cret"})
    assert result.outcome is not None
    assert (result.status, result.logs, result.outcome.error) == ("ok", "s3cret\n", None)
    assert result.outcome.effects == [
        {"op": "id_token.set_custom_claim",
         "args": {"name": "https://x/email", "value": "a@example.com"}},
        {"op": "access_token.add_scope", "args": {"scope": "read:all"}},
    ]


def test_deny_is_its_own_status() -> None:
    result = run_body("api.access.deny('no')")
    assert result.outcome is not None
    assert (result.status, result.outcome.effects) == (
        "denied", [{"op": "access.deny", "args": {"reason": "no"}}])


@pytest.mark.parametrize(("body", "error_type", "message", "line"), [
    ("raise SystemExit(3)", "SystemExit", "3", 2),
    ("raise KeyboardInterrupt", "KeyboardInterrupt", "", 2),
    ("raise GeneratorExit('g')", "GeneratorExit", "g", 2),
    ("x = 1\n{}['missing']", "KeyError", "'missing'", 3),
    ("class Nope(Exception):\n    pass\nraise Nope('custom')", "Nope", "custom", 4),
    ("class Odd(BaseException):\n    pass\nraise Odd()", "Odd", "", 4),
    ("raise ValueError('x' * 5000)", "ValueError", "x" * 1024 + "...", 2),
    ("api.id_token.set_custom_claim('sub', 1)", "ApiUsageError",
     "api.id_token.set_custom_claim: claim name 'sub' is reserved by the platform", 2),
])
def test_exceptions_are_action_errors_and_discard_effects(
        body: str, error_type: str, message: str, line: int) -> None:
    result = run_body("api.access_token.add_scope('s')\n" + body)
    assert result.outcome is not None
    assert result.outcome.error == {"class": "action_error", "type": error_type,
                                    "message": message, "line": line + 1}
    assert (result.status, result.outcome.effects) == ("error", [])


def test_module_level_failure_has_its_line() -> None:
    result = run_source("x = 1\ny = x / 0\n" + handler_source("pass"))
    assert (result.status, result.error_type, result.line) == ("error", "ZeroDivisionError", 2)


@pytest.mark.parametrize("source", [
    "def on_execute_credentials_exchange(event, api):\n    pass\n",
    "on_execute_post_login = 5\n",
    "",
])
def test_missing_handler(source: str) -> None:
    result = run_source(source)
    assert result.outcome is not None
    assert result.outcome.error == {
        "class": "action_error", "type": "HandlerNotFound", "line": None,
        "message": "the action defines no on_execute_post_login(event, api) function, "
                   "the handler for trigger 'post-login'"}


def test_polite_timeout() -> None:
    result = run_body("print('start')\nwhile True:\n    pass")
    assert result.outcome is not None and result.outcome.error is not None
    assert (result.status, result.outcome.error["class"], result.logs) == (
        "timeout", "action_timeout", "start\n")
    assert FAST.timeout_s * 1000 <= result.outcome.duration_ms < 10_000


def test_size_guard_is_a_memory_limit_outcome() -> None:
    result = run_body("x = [0] * 10 ** 12")
    assert result.outcome is not None and result.outcome.error is not None
    assert (result.status, result.outcome.error["class"], result.error_type) == (
        "memory_limit", "memory_limit", "SizeLimitError")


def test_globals_do_not_survive_between_runs() -> None:
    source = ("try:\n    count = count + 1\nexcept NameError:\n    count = 1\n"
              + handler_source("global count\ncount = count + 10\nprint(count)"))
    assert [run_source(source).logs for _ in range(2)] == ["11\n", "11\n"]


def test_unknown_trigger_is_a_platform_error() -> None:
    compiled = compile(handler_source("pass"), "<action>", "exec")
    outcome = run_action(compiled, trigger_id="nope", handler=HANDLER, event=EVENT, secrets={},
                         cache={}, limits=FAST)
    assert outcome.error is not None
    assert (outcome.status, outcome.error["class"]) == ("error", "platform_error")


# Defence in depth: run_action stays correct even for code that escaped RestrictedPython
# (compiled here with plain compile()), e.g. an exception whose __str__ misbehaves.
BYPASS = '''
class Bad(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")
class Slow(Exception):
    def __str__(self):
        while True:
            pass
class NotText(Exception):
    def __str__(self):
        return 42
def on_execute_post_login(event, api):
    raise {kind}()
'''


@pytest.mark.parametrize(("kind", "status", "message"), [
    ("Bad", "error", "<unprintable Bad>"),
    ("NotText", "error", "<unprintable NotText>"),
    ("Slow", "timeout", "action exceeded its 0.3 s time limit"),
])
def test_misbehaving_str_is_contained(kind: str, status: str, message: str) -> None:
    code = compile(BYPASS.format(kind=kind), "<action>", "exec")
    outcome = run_action(code, trigger_id="post-login", handler=HANDLER, event=EVENT,
                         secrets={}, cache={}, limits=FAST)
    assert outcome.error is not None
    assert (outcome.status, outcome.error["message"]) == (status, message)


def test_safe_message_of_empty_memory_error() -> None:
    assert safe_message(MemoryError()) == "out of memory"


def test_previous_alarm_handler_and_timer_are_restored() -> None:
    def mine(signum: int, frame: FrameType | None) -> None:
        raise AssertionError("not expected to fire")

    previous = signal.signal(signal.SIGALRM, mine)
    old_timer = signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        assert run_body("while True:\n    pass").status == "timeout"
        assert signal.getsignal(signal.SIGALRM) is mine
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 20.0 < remaining <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, *old_timer)
        signal.signal(signal.SIGALRM, previous)


def test_many_runs_in_one_process() -> None:
    outcomes = [run_body("print(1)").outcome for _ in range(200)]
    assert all(isinstance(o, ActionOutcome) and o.logs == "1\n" for o in outcomes)


def test_zero_timeout_arms_no_alarm() -> None:
    assert run_body("print('ok')", limits=Limits(timeout_s=0)).logs == "ok\n"
