"""api.cache storage: entries with their expiry, and expired fields found for deletion."""
from __future__ import annotations

import msgpack

from runtime.jobs import now_ms
from worker.actioncache import decode_entries, uses_cache


def record(value: object, expires_in_ms: int) -> bytes:
    return msgpack.packb({"value": value, "expires_at_ms": now_ms() + expires_in_ms})


def test_live_entries_and_stale_fields() -> None:
    raw = {b"live": record({"n": 1}, 60_000), b"old": record(2, -1), b"junk": b"\xc1"}
    entries, stale = decode_entries(raw)
    assert entries == {"live": {"value": {"n": 1}, "expires_at": entries["live"]["expires_at"]}}
    assert entries["live"]["expires_at"] > now_ms()
    assert sorted(stale) == [b"junk", b"old"]


def test_only_code_naming_cache_reads_it() -> None:
    assert uses_cache("x = api.cache.get('k')")
    assert not uses_cache("api.id_token.set_custom_claim('a', 1)")
