"""`api.cache` storage: per-action entries in Redis, read before a run, written from effects.

The cache effects are the runtime's own: the worker applies them here and takes them out of
the effects answered to the auth server (worker/consumer.py); the record lists them, without
values, as `cache_operations`.
"""
from __future__ import annotations

from typing import Any

import msgpack

from runtime import keys
from runtime.jobs import now_ms
from sandbox.effect_totals import CACHE_MAX_TTL_MS, cache_expiry_ms

CACHE_OPS = frozenset({"cache.set", "cache.delete"})
HASH_TTL_S = CACHE_MAX_TTL_MS // 1000 + 60


def uses_cache(code: str) -> bool:
    """Cheap filter: code that never names `cache` cannot reach api.cache by attribute."""
    return "cache" in code


def decode_entries(raw: dict[Any, Any]) -> tuple[dict[str, dict[str, Any]], list[bytes]]:
    """The live entries (key -> {"value", "expires_at"}), and the fields that expired (or are
    unreadable) and can be deleted."""
    now = now_ms()
    entries: dict[str, dict[str, Any]] = {}
    stale: list[bytes] = []
    for key, blob in raw.items():
        try:
            record = msgpack.unpackb(blob, raw=False)
            expires_at = record["expires_at_ms"]
            if type(expires_at) is int and expires_at > now:
                entries[key.decode()] = {"value": record["value"], "expires_at": expires_at}
                continue
        except (ValueError, KeyError, TypeError, msgpack.UnpackException):
            pass
        stale.append(key)
    return entries, stale


def split_cache_ops(effects: list[dict[str, Any]]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the effects for the auth server, the cache effects the worker applies itself)."""
    returned = [e for e in effects if e.get("op") not in CACHE_OPS]
    cache_ops = [e for e in effects if e.get("op") in CACHE_OPS]
    return returned, cache_ops


def operation_summary(effect: dict[str, Any]) -> dict[str, Any]:
    """What the execution record says of a cache effect: which action, op and key; no value."""
    return {"action": effect.get("action"), "version": effect.get("version"),
            "op": effect.get("op"), "key": (effect.get("args") or {}).get("key")}


def queue_writes(pipe: Any, tenant: str, action_id: str, effects: list[dict[str, Any]]) -> None:
    """Add the HSET/HDEL commands for an action's cache.set / cache.delete effects to `pipe`.

    The effects passed the worker's checks; the expiry is recomputed on the worker's clock
    (the earliest of ttl, expires_at and 24 hours), and an entry already expired is deleted.
    """
    key = keys.cache(tenant, action_id)
    touched = False
    now = now_ms()
    for effect in effects:
        args = effect.get("args") or {}
        field = str(args.get("key"))
        if effect.get("op") == "cache.set":
            expires_at = cache_expiry_ms(args.get("ttl"), args.get("expires_at"), now)
            if expires_at <= now:
                pipe.hdel(key, field)
            else:
                record = {"value": args.get("value"), "expires_at_ms": expires_at}
                pipe.hset(key, field, msgpack.packb(record, use_bin_type=True))
            touched = True
        elif effect.get("op") == "cache.delete":
            pipe.hdel(key, field)
            touched = True
    if touched:
        pipe.expire(key, HASH_TTL_S)
