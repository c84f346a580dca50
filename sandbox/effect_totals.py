"""Limits that span several effects of one run: the cache, transaction metadata, SAML attributes.

An argument rule sees one call; these totals see the run so far. Like the rules they are
applied twice, by the in-child recorder and by the worker over the whole effect list, with
Auth0's figures (docs: "Actions Limitations").
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.plain import serialized_size_bytes

CACHE_MAX_ENTRIES = 20
CACHE_KEY_LIMIT_BYTES = 64
CACHE_VALUE_LIMIT_BYTES = 4 * 1024
CACHE_TOTAL_LIMIT_BYTES = 8 * 1024  # keys and values of all entries together
CACHE_MAX_TTL_MS = 24 * 3600 * 1000
CACHE_DEFAULT_TTL_MS = CACHE_MAX_TTL_MS  # Auth0: "a default of lifetime of 24 hours"
TRANSACTION_METADATA_LIMIT_BYTES = 16 * 1024
TRANSACTION_KEY_LIMIT_CHARS = 64
TRANSACTION_VALUE_LIMIT_BYTES = 8 * 1024
SAML_ATTRIBUTES_LIMIT = 100
SAML_ATTRIBUTE_NAME_LIMIT_BYTES = 1024
SAML_ATTRIBUTE_VALUE_LIMIT_BYTES = 2 * 1024
SAML_ATTRIBUTES_TOTAL_LIMIT_BYTES = 10 * 1024

# Codes of api.cache.set's {"type": "error", "code": ...} results.
TOO_MANY_ENTRIES = "too_many_entries"
VALUE_TOO_LARGE = "value_too_large"
CACHE_FULL = "cache_full"


class CacheRefusal(ApiUsageError):
    """Raised when a cache write would break the cache's limits; api.cache returns it as
    `{"type": "error", "code": code}` instead of raising (Auth0's CacheWriteResult)."""

    def __init__(self, code: str, problem: str, method: str = "") -> None:
        super().__init__(problem, method)
        self.code = code

    def at(self, method: str) -> CacheRefusal:
        return CacheRefusal(self.code, self.problem, method)


def cache_expiry_ms(ttl: int | None, expires_at: int | None, now_ms: int) -> int:
    """When an entry set now expires: the earliest of ttl, expires_at and the 24-hour cap."""
    candidates = [now_ms + CACHE_MAX_TTL_MS]
    if ttl is not None:
        candidates.append(now_ms + ttl)
    if expires_at is not None:
        candidates.append(expires_at)
    if ttl is None and expires_at is None:
        candidates.append(now_ms + CACHE_DEFAULT_TTL_MS)
    return min(candidates)


def entry_bytes(key: str, value: Any) -> int:
    return len(key.encode("utf-8", "surrogatepass")) + serialized_size_bytes(value)


class Totals:
    """The running totals of one run. `cache` holds the entries before the run: a map of key
    -> {"value", "expires_at"} (sizes known), or only the keys (sizes counted as zero)."""

    __slots__ = ("_cache", "_primary_user_set", "_saml", "_transaction")

    def __init__(self, cache: Mapping[str, Any] | Collection[str] = ()) -> None:
        self._cache: dict[str, int] = {}
        for key in cache:
            record = cache[key] if isinstance(cache, Mapping) else None
            value = record.get("value") if isinstance(record, dict) else None
            self._cache[str(key)] = 0 if record is None else entry_bytes(str(key), value)
        self._transaction: dict[str, int] = {}
        self._saml: dict[str, int] = {}
        self._primary_user_set = False

    def admit(self, op: str, args: Mapping[str, Any]) -> None:
        """Count one clean effect, or raise ApiUsageError (CacheRefusal for the cache) and count
        nothing."""
        if op == "cache.set":
            self._cache_set(args["key"], args["value"])
        elif op == "cache.delete":
            self._cache.pop(args["key"], None)
        elif op == "transaction.set_metadata":
            _set_sized(self._transaction, args["key"], args["value"],
                       TRANSACTION_METADATA_LIMIT_BYTES, "transaction metadata")
        elif op == "saml_response.set_attribute":
            if args["value"] is not None and args["attribute"] not in self._saml and len(
                    self._saml) >= SAML_ATTRIBUTES_LIMIT:
                raise ApiUsageError(f"at most {SAML_ATTRIBUTES_LIMIT} SAML attributes can be set")
            _set_sized(self._saml, args["attribute"], args["value"],
                       SAML_ATTRIBUTES_TOTAL_LIMIT_BYTES, "SAML attributes")
        elif op == "authentication.set_primary_user":
            if self._primary_user_set:
                raise ApiUsageError("set_primary_user can be called once per transaction")
            self._primary_user_set = True

    def _cache_set(self, key: str, value: Any) -> None:
        value_bytes = serialized_size_bytes(value)
        if value_bytes > CACHE_VALUE_LIMIT_BYTES:
            raise CacheRefusal(VALUE_TOO_LARGE, f"the value is {value_bytes} bytes serialized, "
                               f"over the {CACHE_VALUE_LIMIT_BYTES}-byte limit")
        if key not in self._cache and len(self._cache) >= CACHE_MAX_ENTRIES:
            raise CacheRefusal(TOO_MANY_ENTRIES, f"the cache holds at most {CACHE_MAX_ENTRIES} "
                               "entries; delete one first")
        total = sum(self._cache.values())
        after = total - self._cache.get(key, 0) + entry_bytes(key, value)
        if after > CACHE_TOTAL_LIMIT_BYTES and after > total:  # shrinking is always allowed
            raise CacheRefusal(CACHE_FULL, f"the cache would hold {after} bytes of keys and "
                               f"values, over the {CACHE_TOTAL_LIMIT_BYTES}-byte limit")
        self._cache[key] = entry_bytes(key, value)


def _set_sized(sizes: dict[str, int], key: str, value: Any, limit_bytes: int, what: str) -> None:
    """Set (a None value removes) `key` in a size-capped map of entry sizes."""
    if value is None:
        sizes.pop(key, None)
        return
    size = entry_bytes(key, value)
    after = sum(sizes.values()) - sizes.get(key, 0) + size
    if after > limit_bytes:
        raise ApiUsageError(f"{what} would total {after} bytes, over the {limit_bytes}-byte "
                            "limit of one action")
    sizes[key] = size
