"""Plain values: the deep copy that turns guest (or child-sent) values into bounded JSON data."""
from __future__ import annotations

import json
import math
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.event import EventMapView, EventView, SecretsView, unwrap
from sandbox.limits import Limits

MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what msgpack and most JSON consumers can carry exactly


def serialized_size_bytes(value: Any) -> int:
    """Compact UTF-8 JSON length: the unit of every effect size limit."""
    try:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return len(encoded.encode("utf-8"))
    except UnicodeEncodeError:
        raise ApiUsageError("value contains a lone surrogate, which is not valid UTF-8") from None


class _Copier:
    """One deep copy. `spent_bytes` is a lower bound on the serialized size, so a huge or
    exponentially shared value is abandoned early instead of after copying all of it."""

    __slots__ = ("limit_bytes", "path", "spent_bytes")

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self.spent_bytes = 0
        self.path: set[int] = set()  # ids of containers being copied: a repeat is a cycle

    def spend(self, size_bytes: int) -> None:
        self.spent_bytes += size_bytes
        if self.spent_bytes > self.limit_bytes:
            raise ApiUsageError(f"value is over the {self.limit_bytes}-byte limit (serialized)")

    def copy(self, value: Any, depth: int) -> Any:
        kind = type(value)  # exact types only: a subclass could run guest code in __eq__/__iter__
        if value is None or kind is bool:
            self.spend(4)
            return value
        if kind is str:
            self.spend(len(value) + 2)
            return value
        if kind is int:
            if not INT_MIN <= value <= INT_MAX:
                raise ApiUsageError("integer value is outside the 64-bit range")
            self.spend(1)
            return value
        if kind is float:
            if not math.isfinite(value):
                raise ApiUsageError(f"float value {value!r} is not JSON-compatible")
            self.spend(1)
            return value
        if kind is SecretsView:
            raise ApiUsageError("event.secrets cannot be copied as a whole; pass single secrets")
        if kind is EventMapView or kind is EventView:
            return self.container(unwrap(value), depth, is_map=True)
        if kind is dict:
            return self.container(value, depth, is_map=True)
        if kind is list or kind is tuple:
            return self.container(value, depth, is_map=False)
        for base in (str, int, float, dict, list, tuple):
            if isinstance(value, base):
                raise ApiUsageError(
                    f"value of type {kind.__name__[:64]!r} is a subclass of {base.__name__}; "
                    f"pass a plain {base.__name__}")
        raise ApiUsageError(f"value of type {kind.__name__[:64]!r} is not JSON-compatible "
                            "(use dict, list, str, int, float, bool or None)")

    def container(self, value: Any, depth: int, *, is_map: bool) -> Any:
        if depth >= MAX_DEPTH:
            raise ApiUsageError(f"value is nested deeper than {MAX_DEPTH} levels")
        if id(value) in self.path:
            raise ApiUsageError("value contains a reference cycle")
        self.path.add(id(value))
        self.spend(2)
        try:
            if not is_map:
                return [self.copy(item, depth + 1) for item in value]
            plain: dict[str, Any] = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise ApiUsageError(f"dict key of type {type(key).__name__[:64]!r} "
                                        "is not a plain str")
                self.spend(len(key) + 3)
                plain[key] = self.copy(item, depth + 1)
            return plain
        finally:
            self.path.discard(id(value))


def to_plain(value: Any, limits: Limits) -> Any:
    """Deep-copy a guest value into plain JSON types (tuples become lists, event views their data)
    or raise ApiUsageError; the copy is at most limits.effect_value_limit_bytes serialized."""
    plain = _Copier(limits.effect_value_limit_bytes).copy(value, 0)
    size_bytes = serialized_size_bytes(plain)
    if size_bytes > limits.effect_value_limit_bytes:
        raise ApiUsageError(
            f"value is over the {limits.effect_value_limit_bytes}-byte limit (serialized)")
    return plain
