"""Errors an action sees when it misuses the api object: raised inside the guest, never recorded."""
from __future__ import annotations


class ApiUsageError(ValueError):
    """Raised when an api call is refused; `method` names the call, `problem` says what was wrong."""

    def __init__(self, problem: str, method: str = "") -> None:
        self.method = method
        self.problem = problem
        super().__init__(f"{method}: {problem}" if method else problem)

    def at(self, method: str) -> ApiUsageError:
        """The same refusal, attributed to `method` (validators raise it before knowing the caller)."""
        return type(self)(self.problem, method)


class EffectLimitError(ApiUsageError):
    """Raised when recording an effect would pass max_effects or effects_limit_bytes."""
