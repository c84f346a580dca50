"""api.cache, the same on every trigger: its calls and refusals are one table, run per trigger.

Three triggers (post-user-registration, post-change-password, send-phone-message) have
nothing else: their whole api surface is checked here too.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.apis.cache import MAX_ENTRIES
from sandbox.triggers import TRIGGERS
from tests.sandbox.api_cases import (
    BAD_VALUES,
    CACHE_BAD_CALLS,
    CACHE_CALLS,
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
    assert_surface(api, {"cache": {"get", "set", "delete"}})


@per_trigger
def test_a_full_cache_refuses_new_keys_but_updates_and_deletes_work(trigger: str) -> None:
    full = {f"k{i}": i for i in range(MAX_ENTRIES)}
    api, recorder = make_api(trigger, cache=full)
    assert_refused(recorder, lambda: api.cache.set("one-more", 1),
                   f"api.cache.set: the cache holds at most {MAX_ENTRIES} entries")
    assert api.cache.set("k0", "updated") == {"type": "success"}
    assert api.cache.delete("k1") == {"type": "success"}
    assert api.cache.set("one-more", 1) == {"type": "success"}
    assert [e["op"] for e in recorder.effects] == ["cache.set", "cache.delete", "cache.set"]
