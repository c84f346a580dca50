"""password-reset-post-challenge api: deny, redirect, factor challenges, prompt, result URL, cache."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.api_cases import (
    BAD_VALUES,
    CACHE_METHODS,
    REDIRECT_METHODS,
    assert_refused,
    assert_surface,
    make_api,
)

TRIGGER = "password-reset-post-challenge"
Call = Callable[[Any], Any]

CALLS = [
    (lambda api: api.access.deny("account locked"),
     {"op": "access.deny", "args": {"reason": "account locked"}}),
    (lambda api: api.redirect.send_user_to("https://reset.example.com/verify", query={"step": 2}),
     {"op": "redirect.send_user_to",
      "args": {"url": "https://reset.example.com/verify", "query": {"step": 2}}}),
    (lambda api: api.authentication.challenge_with({"type": "otp"}),
     {"op": "authentication.challenge_with",
      "args": {"factor": {"type": "otp"}, "additional_factors": None}}),
    (lambda api: api.authentication.challenge_with({"type": "phone", "options": {"preferredMethod": "sms"}}),
     {"op": "authentication.challenge_with",
      "args": {"factor": {"type": "phone", "options": {"preferredMethod": "sms"}},
               "additional_factors": None}}),
    (lambda api: api.authentication.challenge_with(
        {"type": "otp"}, additional_factors=[{"type": "push-notification"}, {"type": "phone"}]),
     {"op": "authentication.challenge_with",
      "args": {"factor": {"type": "otp"},
               "additional_factors": [{"type": "push-notification"}, {"type": "phone"}]}}),
    (lambda api: api.authentication.challenge_with_any(({"type": "otp"}, {"type": "email"})),
     {"op": "authentication.challenge_with_any",
      "args": {"factors": [{"type": "otp"}, {"type": "email"}]}}),
    (lambda api: api.transaction.set_result_url("https://app.example.com/done"),
     {"op": "transaction.set_result_url",
      "args": {"url": "https://app.example.com/done", "query": None}}),
    (lambda api: api.transaction.set_result_url("https://app.example.com/done", query={"r": 1}),
     {"op": "transaction.set_result_url",
      "args": {"url": "https://app.example.com/done", "query": {"r": 1}}}),
    (lambda api: api.prompt.render("ap_123", vars={"plan": "gold"}),
     {"op": "prompt.render", "args": {"prompt_id": "ap_123", "fields": None,
                                       "vars": {"plan": "gold"}}}),
]


@pytest.mark.parametrize(("call", "effect"), CALLS)
def test_each_method_records_exactly_its_effect(call: Call, effect: dict[str, Any]) -> None:
    api, recorder = make_api(TRIGGER)
    assert call(api) is None
    assert recorder.effects == [effect]


@pytest.mark.parametrize("factor", ["otp", "email", "phone", "push-notification",
                                    "webauthn-platform", "webauthn-roaming", "recovery-code"])
def test_every_factor_type(factor: str) -> None:
    api, recorder = make_api(TRIGGER)
    api.authentication.challenge_with({"type": factor})
    assert recorder.effects == [{"op": "authentication.challenge_with",
                                 "args": {"factor": {"type": factor}, "additional_factors": None}}]


BAD_CALLS = [
    (lambda api: api.authentication.challenge_with("otp"),
     "api.authentication.challenge_with: factor must be a dict"),
    (lambda api: api.authentication.challenge_with({"type": "sms"}), "unknown factor type 'sms'"),
    (lambda api: api.authentication.challenge_with({}), "unknown factor type NoneType"),
    (lambda api: api.authentication.challenge_with({"type": "otp", "x": 1}),
     "factor has unknown keys: x"),
    (lambda api: api.authentication.challenge_with({"type": "otp", "options": [1]}),
     "factor options must be a dict"),
    (lambda api: api.authentication.challenge_with({"type": "otp", "options": {"f": len}}),
     "is not JSON-compatible"),
    (lambda api: api.redirect.send_user_to("ftp://files.example.com"),
     "api.redirect.send_user_to: url 'ftp://files.example.com' must be an absolute http(s) URL"),
    (lambda api: api.redirect.send_user_to(None), "url must be a str, not NoneType"),
    (lambda api: api.redirect.send_user_to("https://a.example\\@evil.example"), "or '\\'"),
    (lambda api: api.access.deny(["no"]), "reason must be a str, not list"),
    (lambda api: api.authentication.challenge_with({"type": "otp"}, additional_factors="email"),
     "additional_factors must be a list of factors"),
    (lambda api: api.authentication.challenge_with({"type": "otp"},
                                                   additional_factors=[{"type": "sms"}]),
     "unknown factor type 'sms'"),
    (lambda api: api.authentication.challenge_with(
        {"type": "otp"}, additional_factors=[{"type": "otp"}] * 17),
     "additional_factors names 17 factors, over the 16 limit"),
    (lambda api: api.authentication.challenge_with_any([]),
     "api.authentication.challenge_with_any: factors must name at least one factor"),
    (lambda api: api.authentication.challenge_with_any({"type": "otp"}),
     "factors must be a list of factors"),
    (lambda api: api.transaction.set_result_url("javascript:alert(1)"),
     "api.transaction.set_result_url: url 'javascript:alert(1)' must be an absolute http(s) URL"),
    (lambda api: api.transaction.set_result_url("https://a.example", query={"a": [1]}),
     "query parameter 'a' must be a str"),
    (lambda api: api.prompt.render("", vars={}), "api.prompt.render: prompt_id must not be empty"),
    (lambda api: api.prompt.render("ap_1", fields=[("a", 1)]),
     "fields must be a dict or None, not list"),
]


@pytest.mark.parametrize(("call", "fragment"), BAD_CALLS)
def test_bad_arguments_are_refused_and_record_nothing(call: Call, fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: call(api), fragment)


@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_bad_factor_option_values(make_value: Callable[[], Any], fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: api.authentication.challenge_with(
        {"type": "otp", "options": {"v": make_value()}}), fragment)


def test_surface() -> None:
    api, _ = make_api(TRIGGER)
    assert_surface(api, {"access": {"deny"}, "redirect": REDIRECT_METHODS,
                         "authentication": {"challenge_with", "challenge_with_any"},
                         "prompt": {"render"}, "transaction": {"set_result_url"},
                         "cache": CACHE_METHODS})
