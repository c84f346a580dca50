"""pre-user-registration api: deny with a user-facing message, metadata, validation, cache."""
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

TRIGGER = "pre-user-registration"
Call = Callable[[Any], Any]

CALLS = [
    (lambda api: api.access.deny("disposable email domain"),
     {"op": "access.deny", "args": {"reason": "disposable email domain", "user_message": None}}),
    (lambda api: api.access.deny("disposable", user_message="Please use a permanent address"),
     {"op": "access.deny",
      "args": {"reason": "disposable", "user_message": "Please use a permanent address"}}),
    (lambda api: api.user.set_user_metadata("ui_color", "default"),
     {"op": "user.set_user_metadata", "args": {"name": "ui_color", "value": "default"}}),
    (lambda api: api.user.set_user_metadata("use_verbose_messages", False),
     {"op": "user.set_user_metadata", "args": {"name": "use_verbose_messages", "value": False}}),
    (lambda api: api.user.set_app_metadata("is_new_user", True),
     {"op": "user.set_app_metadata", "args": {"name": "is_new_user", "value": True}}),
    (lambda api: api.user.set_app_metadata("reward_status", 0),
     {"op": "user.set_app_metadata", "args": {"name": "reward_status", "value": 0}}),
    (lambda api: api.validation.error("invalid_phone", "Phone number is not valid"),
     {"op": "validation.error", "args": {"code": "invalid_phone", "message": "Phone number is not valid"}}),
]


@pytest.mark.parametrize(("call", "effect"), CALLS)
def test_each_method_records_exactly_its_effect(call: Call, effect: dict[str, Any]) -> None:
    api, recorder = make_api(TRIGGER)
    assert call(api) is None
    assert recorder.effects == [effect]


BAD_CALLS = [
    (lambda api: api.access.deny("r", user_message=3), "api.access.deny: user_message must be a str"),
    (lambda api: api.access.deny("r", "m" * 1025), "user_message is 1025 characters"),
    (lambda api: api.access.deny(b"r"), "reason must be a str, not bytes"),
    (lambda api: api.user.set_app_metadata("user_id", "x"), "app_metadata name 'user_id' is reserved"),
    (lambda api: api.user.set_app_metadata("", 1), "metadata name must not be empty"),
    (lambda api: api.user.set_user_metadata("a.b", 1), "must not contain '.' or '$'"),
    (lambda api: api.validation.error(None, "m"), "api.validation.error: code must be a str"),
    (lambda api: api.validation.error("c", "m" * 1025), "message is 1025 characters"),
]


@pytest.mark.parametrize(("call", "fragment"), BAD_CALLS)
def test_bad_arguments_are_refused_and_record_nothing(call: Call, fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: call(api), fragment)


@pytest.mark.parametrize("method", ["set_app_metadata", "set_user_metadata"])
@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_bad_metadata_values(method: str, make_value: Callable[[], Any], fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    message = assert_refused(
        recorder, lambda: getattr(api.user, method)("m", make_value()), fragment)
    assert message.startswith(f"api.user.{method}: ")


def test_surface() -> None:
    api, _ = make_api(TRIGGER)
    assert_surface(api, {"access": {"deny"}, "user": {"set_app_metadata", "set_user_metadata"},
                         "validation": {"error"}, "cache": {"get", "set", "delete"}})
