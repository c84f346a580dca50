"""post-login api beyond tokens and metadata: session, refresh token, authentication, prompt and
transaction metadata. Each call records one effect with Auth0's argument names in snake_case;
each bad argument is refused with a message naming the call, and records nothing."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.api_cases import Str, assert_refused, make_api

TRIGGER = "post-login"
Call = Callable[[Any], Any]
AT = 1_767_225_600_000  # 2026-01-01T00:00:00Z in milliseconds

CALLS = [
    (lambda api: api.session.revoke("stolen cookie"),
     {"op": "session.revoke", "args": {"reason": "stolen cookie", "preserve_refresh_tokens": False}}),
    (lambda api: api.session.revoke("risk", preserve_refresh_tokens=True),
     {"op": "session.revoke", "args": {"reason": "risk", "preserve_refresh_tokens": True}}),
    (lambda api: api.session.set_expires_at(AT),
     {"op": "session.set_expires_at", "args": {"absolute": AT}}),
    (lambda api: api.session.set_idle_expires_at(AT),
     {"op": "session.set_idle_expires_at", "args": {"inactivity": AT}}),
    (lambda api: api.session.set_metadata("device", "laptop"),
     {"op": "session.set_metadata", "args": {"key": "device", "value": "laptop"}}),
    (lambda api: api.session.set_metadata("device", None),
     {"op": "session.set_metadata", "args": {"key": "device", "value": None}}),
    (lambda api: api.session.delete_metadata("device"),
     {"op": "session.delete_metadata", "args": {"key": "device"}}),
    (lambda api: api.session.evict_metadata(), {"op": "session.evict_metadata", "args": {}}),
    (lambda api: api.session.set_cookie_mode("non-persistent"),
     {"op": "session.set_cookie_mode", "args": {"mode": "non-persistent"}}),
    (lambda api: api.refresh_token.revoke("reused"),
     {"op": "refresh_token.revoke", "args": {"reason": "reused"}}),
    (lambda api: api.refresh_token.set_expires_at(AT),
     {"op": "refresh_token.set_expires_at", "args": {"absolute": AT}}),
    (lambda api: api.refresh_token.set_idle_expires_at(AT),
     {"op": "refresh_token.set_idle_expires_at", "args": {"inactivity": AT}}),
    (lambda api: api.refresh_token.set_metadata("k", "v"),
     {"op": "refresh_token.set_metadata", "args": {"key": "k", "value": "v"}}),
    (lambda api: api.refresh_token.delete_metadata("k"),
     {"op": "refresh_token.delete_metadata", "args": {"key": "k"}}),
    (lambda api: api.refresh_token.evict_metadata(),
     {"op": "refresh_token.evict_metadata", "args": {}}),
    (lambda api: api.authentication.challenge_with({"type": "otp"},
                                                   additional_factors=[{"type": "email"}]),
     {"op": "authentication.challenge_with",
      "args": {"factor": {"type": "otp"}, "additional_factors": [{"type": "email"}]}}),
    (lambda api: api.authentication.challenge_with_any([{"type": "otp"}, {"type": "phone"}]),
     {"op": "authentication.challenge_with_any",
      "args": {"factors": [{"type": "otp"}, {"type": "phone"}]}}),
    (lambda api: api.authentication.enroll_with({"type": "push-notification"}),
     {"op": "authentication.enroll_with",
      "args": {"factor": {"type": "push-notification"}, "additional_factors": None}}),
    (lambda api: api.authentication.enroll_with_any([{"type": "webauthn-roaming"}]),
     {"op": "authentication.enroll_with_any", "args": {"factors": [{"type": "webauthn-roaming"}]}}),
    (lambda api: api.authentication.record_method("https://mfa.example.com/face"),
     {"op": "authentication.record_method",
      "args": {"provider_url": "https://mfa.example.com/face"}}),
    (lambda api: api.authentication.set_primary_user("auth0|primary"),
     {"op": "authentication.set_primary_user", "args": {"primary_user_id": "auth0|primary"}}),
    (lambda api: api.prompt.render("ap_1", fields={"email": "a@example.com"}),
     {"op": "prompt.render", "args": {"prompt_id": "ap_1", "fields": {"email": "a@example.com"},
                                       "vars": None}}),
    (lambda api: api.transaction.set_metadata("plan", "gold"),
     {"op": "transaction.set_metadata", "args": {"key": "plan", "value": "gold"}}),
    (lambda api: api.transaction.set_metadata("risk", 0.25),
     {"op": "transaction.set_metadata", "args": {"key": "risk", "value": 0.25}}),
    (lambda api: api.transaction.set_metadata("ok", True),
     {"op": "transaction.set_metadata", "args": {"key": "ok", "value": True}}),
    (lambda api: api.transaction.set_metadata("plan", None),
     {"op": "transaction.set_metadata", "args": {"key": "plan", "value": None}}),
]


@pytest.mark.parametrize(("call", "effect"), CALLS)
def test_each_method_records_exactly_its_effect(call: Call, effect: dict[str, Any]) -> None:
    api, recorder = make_api(TRIGGER)
    assert call(api) is None
    assert recorder.effects == [effect]


BAD_CALLS = [
    (lambda api: api.session.revoke(None), "api.session.revoke: reason must be a str"),
    (lambda api: api.session.revoke("r", preserve_refresh_tokens="yes"),
     "preserve_refresh_tokens must be True or False, not str"),
    (lambda api: api.session.set_expires_at(AT / 1),
     "api.session.set_expires_at: absolute must be an int from 1 to 253402300799999, not float"),
    (lambda api: api.session.set_expires_at(-5), "absolute must be an int from 1 to"),
    (lambda api: api.session.set_expires_at(10**400), "not an int of 1329 bits"),
    (lambda api: api.session.set_idle_expires_at("tomorrow"), "inactivity must be an int"),
    (lambda api: api.session.set_metadata("k", 5), "value must be a str, not int"),
    (lambda api: api.session.set_metadata("k", "v" * 1025), "over the 1024 limit"),
    (lambda api: api.session.set_metadata("", "v"), "key must not be empty"),
    (lambda api: api.session.delete_metadata(Str("k")), "key must be a str, not Str"),
    (lambda api: api.session.set_cookie_mode("forever"), "unknown mode 'forever'"),
    (lambda api: api.refresh_token.revoke(1), "api.refresh_token.revoke: reason must be a str"),
    (lambda api: api.refresh_token.set_expires_at(True), "not bool"),
    (lambda api: api.refresh_token.set_metadata("k", ["v"]), "value must be a str, not list"),
    (lambda api: api.authentication.challenge_with({"type": "sms"}), "unknown factor type 'sms'"),
    (lambda api: api.authentication.enroll_with({"type": "email"}), "unknown factor type 'email'"),
    (lambda api: api.authentication.enroll_with_any([]), "factors must name at least one"),
    (lambda api: api.authentication.record_method("mfa.example.com"),
     "api.authentication.record_method: url 'mfa.example.com' must be an absolute http(s) URL"),
    (lambda api: api.authentication.set_primary_user("u" * 129),
     "primary_user_id is 129 characters, over the 128 limit"),
    (lambda api: api.authentication.set_primary_user("auth0|\x00"), "control characters"),
    (lambda api: api.prompt.render(7), "prompt_id must be a str, not int"),
    (lambda api: api.prompt.render("ap", vars={"k": {1, 2}}), "type 'set' is not JSON-compatible"),
    (lambda api: api.transaction.set_metadata("k", {"a": 1}),
     "api.transaction.set_metadata: value must be a str, int, float, bool or None, not dict"),
    (lambda api: api.transaction.set_metadata("k", [1]), "not list"),
    (lambda api: api.transaction.set_metadata("k", 2**53), "outside the safe integer range"),
    (lambda api: api.transaction.set_metadata("k", float("inf")), "is not a finite number"),
    (lambda api: api.transaction.set_metadata("k" * 65, 1), "key is 65 characters, over the 64"),
    (lambda api: api.transaction.set_metadata("k", "v" * 8193),
     "value is 8193 characters, over the 8192-byte limit"),
    (lambda api: api.transaction.set_metadata("k", "é" * 4097), "value is 8194 bytes"),
]


@pytest.mark.parametrize(("call", "fragment"), BAD_CALLS)
def test_bad_arguments_are_refused_and_record_nothing(call: Call, fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: call(api), fragment)


def test_transaction_metadata_totals_16_kb_per_action() -> None:
    api, recorder = make_api(TRIGGER)
    for index in range(2):
        api.transaction.set_metadata(f"k{index}", "v" * 8000)
    message = assert_refused_after(recorder, lambda: api.transaction.set_metadata("k2", "v" * 500))
    assert "transaction metadata would total 16512 bytes, over the 16384-byte limit" in message
    api.transaction.set_metadata("k0", "small")  # overwriting frees the room it took
    api.transaction.set_metadata("k2", "v" * 500)
    api.transaction.set_metadata("k1", None)  # None removes
    assert len(recorder.effects) == 5


def test_set_primary_user_once_per_transaction() -> None:
    api, recorder = make_api(TRIGGER)
    api.authentication.set_primary_user("auth0|a")
    message = assert_refused_after(recorder, lambda: api.authentication.set_primary_user("auth0|b"))
    assert "set_primary_user can be called once per transaction" in message


def assert_refused_after(recorder: Any, call: Callable[[], Any]) -> str:
    """Like assert_refused, for a recorder that already holds effects: nothing is added."""
    before = list(recorder.effects)
    from sandbox.api_errors import ApiUsageError
    with pytest.raises(ApiUsageError) as caught:
        call()
    assert recorder.effects == before
    return str(caught.value)
