"""Run one compiled action: fresh globals, the handler call, and every failure as an outcome."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from types import CodeType, TracebackType
from typing import Any

from sandbox.alarm import Deadline
from sandbox.api import build_api
from sandbox.effects import EffectRecorder
from sandbox.errors import ActionTimeout, SizeLimitError
from sandbox.event import EventView
from sandbox.fetch import Transport
from sandbox.guards import guard_hooks, restricted_builtins
from sandbox.imports import forget_run_state, import_hook
from sandbox.limits import Limits
from sandbox.logs import LogBuffer
from sandbox.outcome import (
    ACTION_ERROR,
    ACTION_TIMEOUT,
    DENIED,
    ERROR,
    MEMORY_LIMIT,
    MEMORY_LIMIT_ERROR,
    OK,
    PLATFORM_ERROR,
    TIMEOUT,
    ActionOutcome,
)

MESSAGE_LIMIT_CHARS = 1024
MODULE_NAME = "action"  # `__name__` inside the action, hence its classes' `__module__`


def run_action(code: CodeType, *, trigger_id: str, handler: str, event: Mapping[str, Any],
               secrets: Mapping[str, str], cache: Mapping[str, Any],
               limits: Limits, log_sink: Callable[[str], None] | None = None,
               fetch_transport: Transport | None = None) -> ActionOutcome:
    """Execute the action module in fresh globals and call `handler(event, api)`.

    `log_sink` receives printed text as it is printed (sandbox/logs.py); `fetch_transport`
    carries the action's fetch() requests to whoever makes them (sandbox/fetch.py).

    Never raises for anything the action does. Safe to call repeatedly in one process: every
    run gets new globals, builtins, module views, `random`, api and recorder. Owns SIGALRM for
    the duration of the run (sandbox/alarm.py).
    """
    started = time.perf_counter()
    logs = LogBuffer(limits.log_limit_bytes, log_sink)
    recorder = EffectRecorder(limits, trigger_id)
    try:
        api = build_api(trigger_id, recorder, cache, limits, event)
    except ValueError as exc:
        return ActionOutcome.failure(ERROR, PLATFORM_ERROR, str(exc), error_type="ValueError")
    deadline = Deadline(limits.timeout_s)
    namespace = fresh_globals(limits, logs, deadline, fetch_transport)
    outcome: ActionOutcome
    try:
        with deadline:
            try:
                outcome = _call(code, namespace, handler, trigger_id, EventView(event, secrets),
                                api, recorder)
            except ActionTimeout:
                raise
            except BaseException as exc:  # SystemExit & co. are the action's failure
                if out_of_memory(exc):
                    raise
                # Still under the alarm: describing the action's own exception (a MemoryError
                # it raised with a huge payload, say) is the action's time.
                outcome = _failure(ERROR, ACTION_ERROR, exc, code.co_filename)
            try:
                # The guest's objects die here, still under the alarm: a finalizer (a suspended
                # generator's `finally`, kept alive by a global) runs in this run's time, not
                # in the next run of the child. A timeout raised inside a finalizer is
                # swallowed by Python as "unraisable": the check below still ends the run.
                namespace.clear()
                gc.collect()
                deadline.check()
            finally:
                deadline.disarm()
    except ActionTimeout as exc:
        outcome = _failure(TIMEOUT, ACTION_TIMEOUT, exc, code.co_filename)
    except MemoryError as exc:
        namespace.clear()  # free the guest's objects before describing the failure
        outcome = _failure(MEMORY_LIMIT, MEMORY_LIMIT_ERROR, exc, code.co_filename)
    finally:
        namespace.clear()
        forget_run_state()
    outcome.logs = utf8_text(logs.text())
    outcome.duration_ms = (time.perf_counter() - started) * 1000.0
    return outcome


def fresh_globals(limits: Limits, logs: LogBuffer, deadline: Deadline,
                  fetch_transport: Transport | None = None) -> dict[str, Any]:
    """The globals of one run; nothing in them is shared with another run."""
    namespace = guard_hooks(limits)
    namespace.update(
        __builtins__=restricted_builtins(limits, import_hook(), fetch_transport),
        __name__=MODULE_NAME,
        _print_=logs.collector,
        _deadline_=deadline.check,
    )
    return namespace


def _call(code: CodeType, namespace: dict[str, Any], handler: str, trigger_id: str,
          event: EventView, api: object, recorder: EffectRecorder) -> ActionOutcome:
    exec(code, namespace)
    function = namespace.get(handler)
    if not callable(function):
        return ActionOutcome(status=ERROR, error={
            "class": ACTION_ERROR,
            "type": "HandlerNotFound",
            "message": f"the action defines no {handler}(event, api) function, "
                       f"the handler for trigger {trigger_id!r}",
            "line": None,
        })
    function(event, api)
    return ActionOutcome(status=status_of(recorder.effects), effects=list(recorder.effects))


DENYING_OPS = frozenset({"access.deny", "validation.error"})  # each ends the flow (Auth0)


def status_of(effects: list[dict[str, Any]]) -> str:
    """OK or DENIED, from the effects alone (the worker derives it the same way):
    `api.access.deny` and `api.validation.error` both deny."""
    return DENIED if any(effect["op"] in DENYING_OPS for effect in effects) else OK


def out_of_memory(exc: BaseException) -> bool:
    """A real allocation failure or the size guard, not a MemoryError the action raised itself.

    The name `MemoryError` inside an action is ActionMemoryError (sandbox/errors.py), so the
    exact builtin class only ever comes from the interpreter failing to allocate.
    """
    return isinstance(exc, SizeLimitError) or type(exc) is MemoryError


def utf8_text(text: str) -> str:
    """`text` with lone surrogates escaped: the outcome crosses the pipe as UTF-8 (msgpack)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _failure(status: str, error_class: str, exc: BaseException, filename: str) -> ActionOutcome:
    return ActionOutcome(status=status, error={
        "class": error_class,
        "type": type(exc).__name__,
        "message": safe_message(exc),
        "line": action_line(exc.__traceback__, filename),
    })


def safe_message(exc: BaseException) -> str:
    """str(exc), capped; a __str__ that raises gives a placeholder, one that loops times out."""
    try:
        text = str(exc)
    except ActionTimeout:
        raise
    except BaseException:
        return f"<unprintable {type(exc).__name__}>"
    if type(text) is not str:
        return f"<unprintable {type(exc).__name__}>"
    if not text and type(exc) is MemoryError:
        return "out of memory"
    return utf8_text(text if len(text) <= MESSAGE_LIMIT_CHARS else text[:MESSAGE_LIMIT_CHARS] + "...")


def action_line(tb: TracebackType | None, filename: str) -> int | None:
    """The innermost traceback line inside the action's own source, if any."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
