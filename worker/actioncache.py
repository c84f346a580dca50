"""`api.cache` storage: per-action entries in Redis, read before a run, written from effects."""
from __future__ import annotations

from typing import Any

import msgpack

from runtime import keys
from runtime.jobs import now_ms

DEFAULT_TTL_MS = 15 * 60 * 1000  # Auth0's default cache lifetime
MAX_TTL_MS = 24 * 3600 * 1000
HASH_TTL_S = 24 * 3600 + 60


def uses_cache(code: str) -> bool:
    """Cheap filter: code that never names `cache` cannot reach api.cache by attribute."""
    return "cache" in code


def decode_entries(raw: dict[Any, Any]) -> tuple[dict[str, Any], list[bytes]]:
    """The live entries, and the fields that expired (or are unreadable) and can be deleted."""
    now = now_ms()
    entries: dict[str, Any] = {}
    stale: list[bytes] = []
    for key, blob in raw.items():
        try:
            record = msgpack.unpackb(blob, raw=False)
            if record["expires_at_ms"] > now:
                entries[key.decode()] = record["value"]
                continue
        except (ValueError, KeyError, TypeError, msgpack.UnpackException):
            pass
        stale.append(key)
    return entries, stale


def queue_writes(pipe: Any, tenant: str, action_id: str, effects: list[dict[str, Any]]) -> None:
    """Add the HSET/HDEL commands for an action's cache.set / cache.delete effects to `pipe`."""
    key = keys.cache(tenant, action_id)
    touched = False
    for effect in effects:
        args = effect.get("args") or {}
        if effect.get("op") == "cache.set":
            ttl = min(int(args.get("ttl_ms") or DEFAULT_TTL_MS), MAX_TTL_MS)
            record = {"value": args.get("value"), "expires_at_ms": now_ms() + ttl}
            pipe.hset(key, str(args.get("key")), msgpack.packb(record, use_bin_type=True))
            touched = True
        elif effect.get("op") == "cache.delete":
            pipe.hdel(key, str(args.get("key")))
            touched = True
    if touched:
        pipe.expire(key, HASH_TTL_S)
