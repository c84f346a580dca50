"""post-user-registration api: only api.cache, whose calls and refusals are the shared table."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.api_cases import (
    BAD_VALUES,
    CACHE_BAD_CALLS,
    CACHE_CALLS,
    CACHE_SEED,
    assert_refused,
    assert_surface,
    make_api,
)

TRIGGER = "post-user-registration"
Call = Callable[[Any], Any]


@pytest.mark.parametrize(("call", "effect", "returned"), CACHE_CALLS)
def test_cache_calls(call: Call, effect: dict[str, Any] | None, returned: Any) -> None:
    api, recorder = make_api(TRIGGER, cache=CACHE_SEED)
    assert call(api) == returned
    assert recorder.effects == ([effect] if effect else [])
    assert recorder.denied is False


@pytest.mark.parametrize(("call", "fragment"), CACHE_BAD_CALLS)
def test_cache_refusals(call: Call, fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: call(api), fragment)


@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_bad_cache_values(make_value: Callable[[], Any], fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    message = assert_refused(recorder, lambda: api.cache.set("k", make_value()), fragment)
    assert message.startswith("api.cache.set: ")


def test_surface_is_cache_only() -> None:
    api, _ = make_api(TRIGGER)
    assert_surface(api, {"cache": {"get", "set", "delete"}})
