"""credentials-exchange api: deny with an OAuth2 code, access token claims, cache."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.api_cases import (
    BAD_VALUES,
    assert_refused,
    assert_surface,
    make_api,
)

TRIGGER = "credentials-exchange"
Call = Callable[[Any], Any]

CALLS = [
    (lambda api: api.access.deny("invalid_scope", "scope not granted to this client"),
     {"op": "access.deny",
      "args": {"code": "invalid_scope", "reason": "scope not granted to this client"}}),
    (lambda api: api.access.deny("server_error", ""),
     {"op": "access.deny", "args": {"code": "server_error", "reason": ""}}),
    (lambda api: api.access_token.set_custom_claim("custom_claim", "custom_value"),
     {"op": "access_token.set_custom_claim", "args": {"name": "custom_claim", "value": "custom_value"}}),
]


@pytest.mark.parametrize(("call", "effect"), CALLS)
def test_each_method_records_exactly_its_effect(call: Call, effect: dict[str, Any]) -> None:
    api, recorder = make_api(TRIGGER)
    assert call(api) is None
    assert recorder.effects == [effect]


BAD_CALLS = [
    (lambda api: api.access.deny("access_denied", "no"),
     ("api.access.deny: unknown code 'access_denied'; expected one of invalid_request, "
      "invalid_scope, server_error")),
    (lambda api: api.access.deny(400, "no"), "unknown code int"),
    (lambda api: api.access.deny("invalid_request", None), "reason must be a str, not NoneType"),
    (lambda api: api.access_token.set_custom_claim("gty", "x"), "claim name 'gty' is reserved"),
    (lambda api: api.access_token.set_custom_claim("azp", "x"), "claim name 'azp' is reserved"),
]


@pytest.mark.parametrize(("call", "fragment"), BAD_CALLS)
def test_bad_arguments_are_refused_and_record_nothing(call: Call, fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: call(api), fragment)


def test_deny_needs_both_code_and_reason() -> None:
    api, recorder = make_api(TRIGGER)
    with pytest.raises(TypeError):
        api.access.deny("invalid_request")
    assert recorder.effects == []


@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_bad_claim_values(make_value: Callable[[], Any], fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    message = assert_refused(
        recorder, lambda: api.access_token.set_custom_claim("c", make_value()), fragment)
    assert message.startswith("api.access_token.set_custom_claim: ")


def test_surface() -> None:
    api, _ = make_api(TRIGGER)
    assert_surface(api, {"access": {"deny"}, "access_token": {"set_custom_claim"},
                         "cache": {"get", "set", "delete"}})
