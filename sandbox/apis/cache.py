"""`api.cache`: the action's small key/value store, readable at once and persisted by effects."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.apis import checks
from sandbox.apis.namespace import Namespace
from sandbox.effect_rules import CACHE_MAX_ENTRIES
from sandbox.effects import EffectRecorder
from sandbox.limits import Limits

_SUCCESS = "success"
MAX_ENTRIES = CACHE_MAX_ENTRIES


class Cache(Namespace):
    """get returns {"value": v} or None; set/delete return {"type": "success"} and change what a
    later get in the same run sees. Persisting across runs is the worker's job (cache.* effects)."""

    __slots__ = ("_entries",)
    _entries: dict[str, Any]
    _path = "cache"

    def __init__(self, recorder: EffectRecorder, limits: Limits, entries: Mapping[str, Any]) -> None:
        super().__init__(recorder, limits)
        object.__setattr__(self, "_entries", dict(entries))

    def get(self, key: str) -> dict[str, Any] | None:
        with self._calling("get"):
            key = checks.name(key, "key")
        if key not in self._entries:
            return None
        # A copy: the guest may mutate what it got without changing the run's view.
        return {"value": copy.deepcopy(self._entries[key])}

    def set(self, key: str, value: Any, ttl_ms: int | None = None) -> dict[str, str]:
        with self._calling("set"):
            key = checks.name(key, "key")
            if key not in self._entries and len(self._entries) >= MAX_ENTRIES:
                raise ApiUsageError(f"the cache holds at most {MAX_ENTRIES} entries; "
                                    "delete one first")
            plain = self._record("set", key=key, value=value, ttl_ms=ttl_ms)["value"]
        self._entries[key] = copy.deepcopy(plain)
        return {"type": _SUCCESS}

    def delete(self, key: str) -> dict[str, str]:
        with self._calling("delete"):
            key = checks.name(key, "key")
            self._record("delete", key=key)
        self._entries.pop(key, None)
        return {"type": _SUCCESS}
