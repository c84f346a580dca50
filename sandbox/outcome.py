"""The result of running one action: plain data that crosses the child -> worker pipe."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# status values; "timeout" and "memory_limit" are decided by the supervisor, not the guest.
OK = "ok"
DENIED = "denied"
ERROR = "error"
TIMEOUT = "timeout"
MEMORY_LIMIT = "memory_limit"
STATUSES = frozenset({OK, DENIED, ERROR, TIMEOUT, MEMORY_LIMIT})

# error["class"] values
ACTION_ERROR = "action_error"
ACTION_TIMEOUT = "action_timeout"
MEMORY_LIMIT_ERROR = "memory_limit"
PLATFORM_ERROR = "platform_error"
# Decided by the worker only: an effect failed its re-validation / the child broke the protocol.
INVALID_EFFECT = "invalid_effect"
CRASHED = "crashed"
ERROR_CLASSES = frozenset({ACTION_ERROR, ACTION_TIMEOUT, MEMORY_LIMIT_ERROR, PLATFORM_ERROR,
                           INVALID_EFFECT, CRASHED})


@dataclass
class ActionOutcome:
    """One action run. `effects` are `{"op", "args"}` maps; on error they are discarded."""

    status: str
    effects: list[dict[str, Any]] = field(default_factory=list)
    logs: str = ""
    duration_ms: float = 0.0
    # {"class": ACTION_ERROR|..., "type": "KeyError", "message": "...", "line": 4 or None}
    error: dict[str, Any] | None = None
    # The requests the worker made for the action's fetch() calls (worker/egress.py): set by
    # the worker from what it did, never taken from a child's reply.
    fetches: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionOutcome:
        return cls(
            status=str(data["status"]),
            effects=list(data.get("effects") or []),
            logs=str(data.get("logs") or ""),
            duration_ms=float(data.get("duration_ms") or 0.0),
            error=data.get("error"),
        )

    @classmethod
    def failure(cls, status: str, error_class: str, message: str, duration_ms: float = 0.0,
                logs: str = "", error_type: str | None = None) -> ActionOutcome:
        return cls(
            status=status,
            logs=logs,
            duration_ms=duration_ms,
            error={"class": error_class, "type": error_type, "message": message, "line": None},
        )
