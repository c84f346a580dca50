"""api.cache, the same on every trigger: its calls and refusals are one table, run per trigger.

Limits are Auth0's: 20 entries, keys of 64 bytes, values of 4 KB, 8 KB in all; a set that
breaks them answers {"type": "error", "code": ...} instead of raising. Three triggers (post-user-registration, post-change-password, send-phone-message) have
nothing else: their whole api surface is checked here too.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from sandbox.apis.cache import MAX_ENTRIES
from sandbox.triggers import TRIGGERS
from tests.sandbox.api_cases import (
    BAD_VALUES,
    CACHE_BAD_CALLS,
    CACHE_CALLS,
    CACHE_METHODS,
    CACHE_SEED,
    assert_refused,
    assert_surface,
    make_api,
)

CACHE_ONLY = ("post-user-registration", "post-change-password", "send-phone-message")
Call = Callable[[Any], Any]
per_trigger = pytest.mark.parametrize("trigger", sorted(TRIGGERS))


@per_trigger
@pytest.mark.parametrize(("call", "effect", "returned"), CACHE_CALLS)
def test_cache_calls(trigger: str, call: Call, effect: dict[str, Any] | None, returned: Any) -> None:
    api, recorder = make_api(trigger, cache=CACHE_SEED)
    assert call(api) == returned
    assert recorder.effects == ([effect] if effect else [])


@per_trigger
@pytest.mark.parametrize(("call", "fragment"), CACHE_BAD_CALLS)
def test_cache_refusals(trigger: str, call: Call, fragment: str) -> None:
    api, recorder = make_api(trigger)
    assert_refused(recorder, lambda: call(api), fragment)


@per_trigger
@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_bad_cache_values(trigger: str, make_value: Callable[[], Any], fragment: str) -> None:
    api, recorder = make_api(trigger)
    message = assert_refused(recorder, lambda: api.cache.set("k", make_value()), fragment)
    assert message.startswith("api.cache.set: ")


@pytest.mark.parametrize("trigger", CACHE_ONLY)
def test_surface_is_cache_only(trigger: str) -> None:
    api, _ = make_api(trigger)
    assert_surface(api, {"cache": CACHE_METHODS})


def entries(count: int, value: Any = 1) -> dict[str, dict[str, Any]]:
    return {f"k{i}": {"value": value, "expires_at": None} for i in range(count)}


@per_trigger
def test_a_full_cache_answers_an_error_result_but_updates_and_deletes_work(trigger: str) -> None:
    api, recorder = make_api(trigger, cache=entries(MAX_ENTRIES))
    assert api.cache.set("one-more", 1) == {
        "type": "error", "code": "too_many_entries",
        "message": f"the cache holds at most {MAX_ENTRIES} entries; delete one first"}
    assert api.cache.get("one-more") is None
    assert api.cache.set("k0", "updated") == {"type": "success"}
    assert api.cache.delete("k1") == {"type": "success"}
    assert api.cache.set("one-more", 1) == {"type": "success"}
    assert [e["op"] for e in recorder.effects] == ["cache.set", "cache.delete", "cache.set"]


def test_a_value_over_4_kb_is_an_error_result() -> None:
    api, recorder = make_api("post-login")
    result = api.cache.set("k", "x" * 4095)  # 4097 bytes with its quotes
    assert (result["type"], result["code"]) == ("error", "value_too_large")
    assert "4097 bytes serialized, over the 4096-byte limit" in result["message"]
    assert api.cache.set("k", "x" * 4094) == {"type": "success"}
    assert len(recorder.effects) == 1


def test_keys_and_values_total_at_most_8_kb() -> None:
    api, recorder = make_api("post-login", cache=entries(1, "a" * 4000))
    assert api.cache.set("b", "b" * 4000) == {"type": "success"}
    full = api.cache.set("c", "c" * 200)
    assert (full["type"], full["code"]) == ("error", "cache_full")
    assert "over the 8192-byte limit" in full["message"]
    assert api.cache.set("k0", "small") == {"type": "success"}  # shrinking frees room
    assert api.cache.set("c", "c" * 200) == {"type": "success"}
    assert [e["args"]["key"] for e in recorder.effects] == ["b", "k0", "c"]


def test_an_oversized_cache_from_before_may_still_shrink() -> None:
    api, _ = make_api("post-login", cache=entries(3, "z" * 4000))  # ~12 KB: older limits
    assert api.cache.set("k0", "z" * 3999)["type"] == "success"
    assert api.cache.set("k1", "z" * 4001)["code"] == "cache_full"


def test_get_returns_the_expiry_of_what_this_run_set() -> None:
    api, _ = make_api("post-login")
    before = int(time.time() * 1000)
    api.cache.set("ttl", 1, ttl=60_000)
    api.cache.set("at", 2, expires_at=before + 5_000, ttl=60_000)  # the earlier wins
    api.cache.set("default", 3)
    assert before + 60_000 <= api.cache.get("ttl")["expires_at"] <= before + 61_000
    assert api.cache.get("at") == {"value": 2, "expires_at": before + 5_000}
    assert api.cache.get("default")["expires_at"] >= before + 86_400_000
    api.cache.set("gone", 4, expires_at=before - 1)
    assert api.cache.get("gone") is None


def test_get_returns_a_copy() -> None:
    api, _ = make_api("post-login", cache={"a": {"value": {"n": 1}, "expires_at": None}})
    got = api.cache.get("a")
    got["value"]["n"] = 99
    assert api.cache.get("a") == {"value": {"n": 1}, "expires_at": None}


def test_malformed_loaded_entries_are_ignored() -> None:
    api, _ = make_api("post-login", cache={"a": 1, "b": {"no": "value"}, "c": {"value": 2}})
    assert (api.cache.get("a"), api.cache.get("b")) == (None, None)
    assert api.cache.get("c") == {"value": 2, "expires_at": None}
