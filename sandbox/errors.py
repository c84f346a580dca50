"""Errors of the sandbox policy: what the guard layer raises inside a running action."""
from __future__ import annotations


class SandboxError(Exception):
    """Base class of the sandbox's own errors that an action may see (and may catch)."""


class SizeLimitError(SandboxError, MemoryError):
    """Raised when one operation would build a value larger than the action's memory allows.

    A MemoryError subclass so it is reported like the rlimit's MemoryError (`memory_limit`),
    but raised before anything is allocated, so the process stays healthy.
    """

    def __init__(self, operation: str, size: int, limit: int, unit: str = "bytes") -> None:
        super().__init__(f"{operation} would build a value of about {size} {unit}; "
                         f"the limit is {limit} {unit}")
        self.operation = operation
        self.size = size
        self.limit = limit
        self.unit = unit


class ActionMemoryError(MemoryError):
    """What the name `MemoryError` means inside an action: raising it is the action's own error.

    The real MemoryError stays the kernel's word (RLIMIT_AS): an action that raised it by
    hand used to be reported as a memory kill and had its child replaced on every run. A
    real allocation failure is not caught by `except MemoryError` in an action; it ends the
    run as `memory_limit`, as it should.
    """


ActionMemoryError.__name__ = ActionMemoryError.__qualname__ = "MemoryError"


class ActionTimeout(BaseException):
    """Raised inside the guest by the polite alarm when the action's wall-clock limit passes.

    Deliberately a BaseException and not a SandboxError: `except Exception` must not catch it,
    and every `except`/`finally` block of the action re-raises it once the deadline has passed.
    """

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"action exceeded its {timeout_s:g} s time limit")
        self.timeout_s = timeout_s


class InvalidEffectError(SandboxError):
    """Raised when an effect list a child sent fails re-validation; `index` and `op` say which."""

    def __init__(self, problem: str, index: int | None = None, op: str | None = None) -> None:
        where = "" if index is None else f"effect {index}" + (f" ({op[:80]})" if op else "") + ": "
        super().__init__(where + problem)
        self.problem = problem
        self.index = index
        self.op = op
