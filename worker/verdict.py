"""The worker's verdict on a child's reply: what the child claims is checked, never believed.

A child whose guest escaped the language layer (CPython has use-after-free bugs reachable
from plain code) can send any bytes. So the worker re-validates every effect against the
trigger's rules, derives the status itself (denied only from a valid `access.deny`), keeps
its own clock, and caps and sanitises logs and error text before they reach an answer.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sandbox.effect_rules import check_effects
from sandbox.errors import InvalidEffectError
from sandbox.execute import MESSAGE_LIMIT_CHARS, status_of
from sandbox.limits import Limits
from sandbox.outcome import (
    ACTION_ERROR,
    ACTION_TIMEOUT,
    ERROR,
    INVALID_EFFECT,
    MEMORY_LIMIT,
    MEMORY_LIMIT_ERROR,
    TIMEOUT,
    ActionOutcome,
)
from worker import protocol
from worker.errors import ProtocolError

# What a child may say went wrong, and the status each maps to. Never platform_error: blame
# on the platform comes from what the worker saw (a death, a refused send), not from a child.
_CLAIMED_ERRORS = {ACTION_ERROR: ERROR, ACTION_TIMEOUT: TIMEOUT, MEMORY_LIMIT_ERROR: MEMORY_LIMIT}
# The polite alarm fires at the limit; a "timeout" claimed well before it is not one.
TIMEOUT_CLAIM_FRACTION = 0.9
TYPE_LIMIT_CHARS = 64
MAX_LINE = 10_000_000
TRUNCATION_MARKER = "\n... [log truncated by the worker]"
# C0/C1 controls (but \n and \t), DEL, and the bidi, zero-width and line-separator characters
# that let text rewrite or hide what a terminal or log viewer shows around it.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                     "\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize_text(text: str, limit_bytes: int, marker: str = TRUNCATION_MARKER) -> str:
    """Control and bidi characters escaped, then cut to `limit_bytes` of UTF-8 plus `marker`.

    Cut to `limit_bytes` characters first: the escaping runs in the worker's event loop, and
    a child may send megabytes of control characters.
    """
    safe = _UNSAFE.sub(_escape, text[:limit_bytes + 1])
    data = safe.encode("utf-8", "backslashreplace")
    if len(data) <= limit_bytes:
        return safe
    return data[:limit_bytes].decode("utf-8", "ignore") + marker


class StreamedLogs:
    """What a child printed during one job, from its log frames: the logs of a run that never
    reports (killed in a C call, crashed). More than the log limit is a protocol breach: an
    honest child stops sending at the limit."""

    def __init__(self, job: int, limit_bytes: int) -> None:
        self.job = job
        self.limit_bytes = limit_bytes
        self._parts: list[str] = []
        self._bytes = 0

    def add(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        if message.get("job") != self.job or type(message.get("job")) is not int:
            raise ProtocolError("a log frame for another job")
        if type(text) is not str:
            raise ProtocolError("log text must be a string")
        self._bytes += len(text)
        if self._bytes > self.limit_bytes:  # characters: never more than the bytes kept
            raise ProtocolError("log frames past the log limit")
        self._parts.append(text)

    def text(self) -> str:
        return sanitize_text("".join(self._parts), self.limit_bytes)


def _error(data: Any, limits: Limits, elapsed_ms: float) -> tuple[str, dict[str, Any]]:
    if type(data) is not dict or type(data.get("class")) is not str or (
            data["class"] not in _CLAIMED_ERRORS):
        raise ProtocolError("error must be a map with a known class")
    error_class = data["class"]
    kind, message, line = data.get("type"), data.get("message", ""), data.get("line")
    if kind is not None and (type(kind) is not str or not kind.isidentifier()
                             or len(kind) > TYPE_LIMIT_CHARS):
        raise ProtocolError("error type must be a short identifier")
    if type(message) is not str:
        raise ProtocolError("error message must be a string")
    if line is not None and (type(line) is not int or not 0 < line <= MAX_LINE):
        raise ProtocolError("error line must be a positive integer")
    message = sanitize_text(message, MESSAGE_LIMIT_CHARS * 4, "...")
    if error_class == ACTION_TIMEOUT and elapsed_ms < limits.timeout_s * 1000 * TIMEOUT_CLAIM_FRACTION:
        error_class = ACTION_ERROR
        message = f"the child claimed a timeout after {elapsed_ms:.0f} ms: {message}"
    return _CLAIMED_ERRORS[error_class], {"class": error_class, "type": kind,
                                          "message": message, "line": line}


def judge(reply: dict[str, Any], *, job: int, trigger_id: str, limits: Limits,
          cache_keys: Collection[str] | None, elapsed_ms: float) -> ActionOutcome:
    """The outcome the worker stands behind. ProtocolError for a malformed reply; an effect
    that fails re-validation fails the action with class `invalid_effect`."""
    if reply.get("op") != protocol.RESULT:
        raise ProtocolError(f"unexpected {str(reply.get('op'))[:40]!r} frame")
    if type(reply.get("job")) is not int or reply["job"] != job:
        raise ProtocolError("the reply is for another job")
    data = reply.get("outcome")
    if type(data) is not dict:
        raise ProtocolError("outcome is not a map")
    logs = data.get("logs", "")
    if type(logs) is not str:
        raise ProtocolError("logs must be a string")
    logs = sanitize_text(logs, limits.log_limit_bytes + len(TRUNCATION_MARKER) * 2)
    if data.get("error") is not None:
        status, error = _error(data["error"], limits, elapsed_ms)
        return ActionOutcome(status=status, logs=logs, duration_ms=elapsed_ms, error=error)
    try:
        effects = check_effects(trigger_id, data.get("effects"), limits, cache_keys)
    except InvalidEffectError as exc:
        return ActionOutcome(status=ERROR, logs=logs, duration_ms=elapsed_ms, error={
            "class": INVALID_EFFECT, "type": "InvalidEffect", "line": None,
            "message": sanitize_text(f"the action's result failed the worker's checks: {exc}",
                                     MESSAGE_LIMIT_CHARS, "...")})
    return ActionOutcome(status=status_of(effects), effects=effects, logs=logs,
                         duration_ms=elapsed_ms)
