"""Errors of the gateway and the management store."""
from __future__ import annotations


class RuntimeServiceError(Exception):
    """Base class of every error raised by runtime/."""


class ConfigError(RuntimeServiceError):
    """Raised when an environment variable holds an unusable value."""

    def __init__(self, name: str, value: str, reason: str) -> None:
        super().__init__(f"{name}={value!r}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


class ApiError(RuntimeServiceError):
    """Raised by handlers and the store to answer a request with a JSON error.

    Rendered as `{"error": {"code": code, "message": message}}` with `status`.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: object | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details
