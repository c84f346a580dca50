"""Errors of the worker and its sandbox process layer."""
from __future__ import annotations


class WorkerError(Exception):
    """Base class of every error raised by worker/."""


class SandboxUnavailable(WorkerError):
    """Raised when the pool cannot provide contained children (e.g. seccomp will not load)."""

    def __init__(self, message: str, *, layer: str | None = None) -> None:
        super().__init__(message)
        self.layer = layer


class PoolClosed(WorkerError):
    """Raised when a run is asked of a pool that is not started or already closed."""


class ProtocolError(WorkerError):
    """Raised when a peer on a sandbox pipe sends a frame that breaks the protocol."""
