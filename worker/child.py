"""A sandbox child: contains itself, then runs one tenant's compiled actions, one job at a time.

Runs in a process forked from the warm template. It compiles inside itself (hostile source
hits this process's limits, not the worker's) and keeps compiled code by content hash in a
small LRU, so repeated runs of the same action do not recompile.
"""
from __future__ import annotations

import builtins
import dataclasses
import os
from collections import OrderedDict
from types import CodeType
from typing import Any

from sandbox.compiler import compile_action
from sandbox.containment import ContainmentError, contain
from sandbox.execute import run_action
from sandbox.limits import Limits
from sandbox.outcome import (
    ACTION_ERROR,
    ERROR,
    MEMORY_LIMIT,
    MEMORY_LIMIT_ERROR,
    OK,
    ActionOutcome,
)
from worker import protocol
from worker.errors import ProtocolError

PIPE_FD = 3  # the child's socket to its worker; 0-2 are /dev/null
EXIT_MEMORY = 86  # MemoryError that could not even be reported
EXIT_PROTOCOL = 87
COMPILED_CACHE_SIZE = 64
# Test-only: with the hook on (the template is told so at start, from the loudly named
# ACTIONS_INSECURE_TEST_ESCAPE_HOOK), source starting with ESCAPE_MARKER runs as ordinary,
# unrestricted Python, the way an action that broke out of RestrictedPython would. Tests use
# it to prove the OS boundary and the worker's distrust; the worker never sets it otherwise.
ESCAPE_MARKER = "#!unrestricted\n"
escape_hook = False
_LIMIT_FIELDS = frozenset(f.name for f in dataclasses.fields(Limits))

def _memory_outcome(message: str) -> ActionOutcome:
    return ActionOutcome.failure(MEMORY_LIMIT, MEMORY_LIMIT_ERROR, message, error_type="MemoryError")


def _compile(source: str) -> tuple[CodeType | None, list[dict[str, Any]]]:
    result = compile_action(source)
    errors = [{"line": e.line, "column": e.column, "message": e.message} for e in result.errors]
    return result.code, errors


def _compile_failure(errors: list[dict[str, Any]]) -> ActionOutcome:
    first = errors[0] if errors else {"line": None, "message": "does not compile"}
    message = "; ".join(
        f"line {e['line']}: {e['message']}" if e.get("line") else str(e["message"]) for e in errors
    ) or "action does not compile"
    outcome = ActionOutcome.failure(ERROR, ACTION_ERROR, message, error_type="CompileError")
    assert outcome.error is not None
    outcome.error["line"] = first.get("line")
    return outcome


class Runner:
    """The job loop's state: the compiled-code LRU, keyed by the code's sha256."""

    def __init__(self) -> None:
        self.compiled: OrderedDict[str, tuple[str, CodeType | None, list[dict[str, Any]]]] = (
            OrderedDict()
        )

    def code_for(self, code_sha256: str, source: str) -> tuple[CodeType | None, list, bool]:
        entry = self.compiled.get(code_sha256)
        # Comparing the source (a memcmp) keeps a wrong hash from ever running other code.
        if entry is not None and entry[0] == source:
            self.compiled.move_to_end(code_sha256)
            return entry[1], entry[2], False
        code, errors = _compile(source)
        self.compiled[code_sha256] = (source, code, errors)
        while len(self.compiled) > COMPILED_CACHE_SIZE:
            self.compiled.popitem(last=False)
        return code, errors, True

    def run(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if escape_hook and str(request["source"]).startswith(ESCAPE_MARKER):
            return _run_unrestricted(request)
        code, errors, compiled = self.code_for(str(request["code_sha256"]), str(request["source"]))
        if code is None:
            return _reply(request, _compile_failure(errors), compiled)
        limits = Limits(**{k: v for k, v in request["limits"].items() if k in _LIMIT_FIELDS})
        outcome = run_action(
            code,
            trigger_id=str(request["trigger_id"]),
            handler=str(request["handler"]),
            event=request["event"],
            secrets=request["secrets"],
            cache=request["cache"],
            limits=limits,
            log_sink=_log_sender(request.get("job")),
            fetch_transport=_fetch_sender(request.get("job")),
        )
        return _reply(request, outcome, compiled)


def _log_sender(job: Any) -> Any:
    def send(text: str) -> None:
        protocol.write_frame_fd(PIPE_FD, {"op": protocol.LOG, "job": job, "text": text})
    return send


def _fetch_sender(job: Any) -> Any:
    """fetch()'s transport: the request to the worker, then block until its answer. Anything
    but the answer to this job means the pipe is out of step: the child exits."""
    def send(request: dict[str, Any]) -> dict[str, Any]:
        protocol.write_frame_fd(PIPE_FD, {"op": protocol.FETCH, "job": job, "request": request})
        try:
            reply = protocol.read_frame_fd(PIPE_FD)
        except ProtocolError:
            os._exit(EXIT_PROTOCOL)
        if reply is None or reply.get("op") != protocol.FETCH_REPLY or reply.get("job") != job:
            os._exit(EXIT_PROTOCOL)
        return reply
    return send


def _reply(request: dict[str, Any], outcome: ActionOutcome, compiled: bool) -> dict[str, Any]:
    return {"op": protocol.RESULT, "job": request.get("job"), "outcome": outcome.to_dict(),
            "compiled": compiled}


def _run_unrestricted(request: dict[str, Any]) -> dict[str, Any] | None:
    """The escape hook: real builtins and the raw pipe.

    The code sees `request` and `fd` (its pipe). It may set `reply` (a message to send instead
    of an honest empty success), or `sent = True` after writing to `fd` itself; otherwise the
    repr of its `result` (or its exception) becomes the success's logs.
    """
    scope: dict[str, Any] = {"__builtins__": builtins, "request": request, "fd": PIPE_FD,
                             "protocol": protocol, "reply": None, "result": None}
    try:
        exec(str(request["source"]), scope)
        logs = f"ok: {scope['result']!r}"
    except BaseException as exc:
        logs = f"{type(exc).__name__}: {exc}"
    if scope["reply"] is not None:
        return scope["reply"]  # type: ignore[no-any-return]
    if scope.get("sent"):
        return None
    return _reply(request, ActionOutcome(status=OK, logs=logs[:4096]), False)


def _setup_fds(sock_fd: int, devnull_fd: int) -> None:
    for target in (0, 1, 2):
        os.dup2(devnull_fd, target)
    if sock_fd != PIPE_FD:
        os.dup2(sock_fd, PIPE_FD)
    os.closerange(PIPE_FD + 1, os.sysconf("SC_OPEN_MAX"))


def serve(fd: int) -> None:
    """Answer run requests until the worker hangs up."""
    runner = Runner()
    # Built while memory is plentiful: the outcome to report when it is not.
    memory_outcome = _memory_outcome("memory limit exceeded")
    while True:
        request = protocol.read_frame_fd(fd)
        if request is None:
            return
        if request.get("op") != protocol.RUN:
            os._exit(EXIT_PROTOCOL)
        try:
            message = runner.run(request)
            if message is None:
                continue
            reply = protocol.encode(message)
        except MemoryError:
            # The run's objects are gone by now; if even this small frame fails, the exit
            # status says it (EXIT_MEMORY).
            reply = protocol.encode(_reply(request, memory_outcome, False))
        except Exception as exc:  # reported as the action's: the worker never takes a child's
            reply = protocol.encode(_reply(request, ActionOutcome.failure(  # word for blame
                ERROR, ACTION_ERROR, f"sandbox child: {type(exc).__name__}: {exc}"[:1024],
                error_type="SandboxFailure"), False))
        view = memoryview(reply)
        while view:
            view = view[os.write(fd, view):]


def child_main(sock_fd: int, devnull_fd: int, *, memory_limit_bytes: int, cpu_limit_s: int,
               seccomp_filter: Any, parent_pid: int) -> None:
    """Entry point right after the template's fork; returns only to exit."""
    _setup_fds(sock_fd, devnull_fd)
    try:
        report = contain(memory_limit_bytes=memory_limit_bytes, cpu_limit_s=cpu_limit_s,
                         seccomp_filter=seccomp_filter, parent_pid=parent_pid,
                         chroot_to_cwd=True)
    except ContainmentError as exc:
        protocol.write_frame_fd(PIPE_FD, {"op": "failed", "layer": exc.layer, "message": str(exc)})
        return
    protocol.write_frame_fd(PIPE_FD, {"op": protocol.READY, **report.to_dict()})
    try:
        serve(PIPE_FD)
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except ProtocolError:
        os._exit(EXIT_PROTOCOL)
