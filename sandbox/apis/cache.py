"""`api.cache`: the action's small key/value store, in Auth0's shape.

`get` answers from the entries the worker loaded before the run plus this run's own writes;
`set` and `delete` record cache effects, which the worker applies to its store and keeps out
of the effects returned to the auth server.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from sandbox.apis.namespace import Namespace
from sandbox.effect_rules import CACHE_KEY
from sandbox.effect_totals import CACHE_MAX_ENTRIES, CacheRefusal, cache_expiry_ms
from sandbox.effects import EffectRecorder
from sandbox.limits import Limits

SUCCESS: dict[str, str] = {"type": "success"}
MAX_ENTRIES = CACHE_MAX_ENTRIES


def _now_ms() -> int:
    return int(time.time() * 1000)


def _live_entries(entries: Mapping[str, Any], now_ms: int) -> dict[str, dict[str, Any]]:
    """The well-formed, unexpired records of `entries` (key -> {"value", "expires_at"})."""
    live: dict[str, dict[str, Any]] = {}
    for key, record in entries.items():
        if type(key) is not str or not isinstance(record, Mapping) or "value" not in record:
            continue
        expires_at = record.get("expires_at")
        if type(expires_at) is int and expires_at <= now_ms:
            continue
        live[key] = {"value": record["value"],
                     "expires_at": expires_at if type(expires_at) is int else None}
    return live


class Cache(Namespace):
    """get -> {"value", "expires_at"} or None; set/delete -> {"type": "success"}, or for a
    set that breaks the cache's limits {"type": "error", "code", "message"} (nothing recorded).
    Bad arguments (a key that is not a str, a ttl that is not an int) raise ApiUsageError."""

    __slots__ = ("_entries",)
    _entries: dict[str, dict[str, Any]]
    _path = "cache"

    def __init__(self, recorder: EffectRecorder, limits: Limits, entries: Mapping[str, Any]) -> None:
        super().__init__(recorder, limits)
        live = _live_entries(entries, _now_ms())
        object.__setattr__(self, "_entries", live)
        recorder.load_cache(live)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._calling("get"):
            key = CACHE_KEY(key, self._limits)
        record = self._entries.get(key)
        if record is None:
            return None
        if record["expires_at"] is not None and record["expires_at"] <= _now_ms():
            return None
        # A copy: the guest may mutate what it got without changing the run's view.
        return copy.deepcopy(record)

    def set(self, key: str, value: Any, ttl: int | None = None,
            expires_at: int | None = None) -> dict[str, str]:
        """Auth0's `set(key, value, {ttl, expires_at})`: both in milliseconds (ttl relative,
        expires_at since the epoch); the earlier wins, and no entry outlives 24 hours."""
        with self._calling("set"):
            try:
                args = self._record("set", key=key, value=value, ttl=ttl, expires_at=expires_at)
            except CacheRefusal as refusal:
                return {"type": "error", "code": refusal.code, "message": refusal.problem}
        self._entries[args["key"]] = {
            "value": copy.deepcopy(args["value"]),
            "expires_at": cache_expiry_ms(args["ttl"], args["expires_at"], _now_ms())}
        return dict(SUCCESS)

    def delete(self, key: str) -> dict[str, str]:
        with self._calling("delete"):
            args = self._record("delete", key=key)
        self._entries.pop(args["key"], None)
        return dict(SUCCESS)
