"""post-login api: every method's effect, every refusal, limits, and the exposed surface."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.api_errors import ApiUsageError, EffectLimitError
from sandbox.apis.saml import SamlResponse
from sandbox.event import EventView
from sandbox.limits import Limits
from tests.sandbox.api_cases import (
    BAD_VALUES,
    CACHE_METHODS,
    REDIRECT_METHODS,
    Str,
    assert_refused,
    assert_surface,
    make_api,
)

TRIGGER = "post-login"
SAML_METHODS = {name for name in dir(SamlResponse) if name.startswith("set_")}
Call = Callable[[Any], Any]

CALLS = [
    (lambda api: api.access.deny("blocked country"),
     {"op": "access.deny", "args": {"reason": "blocked country"}}),
    (lambda api: api.id_token.set_custom_claim("https://my-app.example.com/roles", ["admin"]),
     {"op": "id_token.set_custom_claim",
      "args": {"name": "https://my-app.example.com/roles", "value": ["admin"]}}),
    (lambda api: api.access_token.set_custom_claim("tier", {"level": 2, "paid": True}),
     {"op": "access_token.set_custom_claim",
      "args": {"name": "tier", "value": {"level": 2, "paid": True}}}),
    (lambda api: api.access_token.add_scope("read:reports"),
     {"op": "access_token.add_scope", "args": {"scope": "read:reports"}}),
    (lambda api: api.access_token.remove_scope("admin"),
     {"op": "access_token.remove_scope", "args": {"scope": "admin"}}),
    (lambda api: api.multifactor.enable("any"),
     {"op": "multifactor.enable", "args": {"provider": "any", "allow_remember_browser": False,
                                           "provider_options": None}}),
    (lambda api: api.multifactor.enable("duo", allow_remember_browser=True),
     {"op": "multifactor.enable", "args": {"provider": "duo", "allow_remember_browser": True,
                                           "provider_options": None}}),
    (lambda api: api.multifactor.enable("duo", provider_options={"host": "api-1.duo.example"}),
     {"op": "multifactor.enable", "args": {"provider": "duo", "allow_remember_browser": False,
                                           "provider_options": {"host": "api-1.duo.example"}}}),
    (lambda api: api.redirect.send_user_to("https://idv.example.com/start"),
     {"op": "redirect.send_user_to", "args": {"url": "https://idv.example.com/start", "query": None}}),
    (lambda api: api.redirect.send_user_to("http://localhost:8080/cb", query={"a": "1", "n": 2}),
     {"op": "redirect.send_user_to",
      "args": {"url": "http://localhost:8080/cb", "query": {"a": "1", "n": 2}}}),
    (lambda api: api.user.set_app_metadata("plan", "gold"),
     {"op": "user.set_app_metadata", "args": {"name": "plan", "value": "gold"}}),
    (lambda api: api.user.set_app_metadata("plan", None),
     {"op": "user.set_app_metadata", "args": {"name": "plan", "value": None}}),
    (lambda api: api.user.set_user_metadata("theme", ("dark", 1.5)),
     {"op": "user.set_user_metadata", "args": {"name": "theme", "value": ["dark", 1.5]}}),
    (lambda api: api.validation.error("invalid_email", "Use your work email"),
     {"op": "validation.error", "args": {"code": "invalid_email", "message": "Use your work email"}}),
    (lambda api: api.transaction.set_metadata("step", 3),
     {"op": "transaction.set_metadata", "args": {"key": "step", "value": 3}}),
]


@pytest.mark.parametrize(("call", "effect"), CALLS)
def test_each_method_records_exactly_its_effect(call: Call, effect: dict[str, Any]) -> None:
    api, recorder = make_api(TRIGGER)
    assert call(api) is None
    assert recorder.effects == [effect]


def test_cache_set_and_delete_change_what_get_sees_in_the_same_run() -> None:
    api, recorder = make_api(TRIGGER, cache={"a": {"value": {"n": 1}, "expires_at": None}})
    got = api.cache.get("a")
    got["value"]["n"] = 99  # a copy: mutating it changes nothing
    assert api.cache.get("a") == {"value": {"n": 1}, "expires_at": None}
    api.cache.set("b", [1])
    api.cache.delete("a")
    assert api.cache.get("a") is None
    assert api.cache.get("b")["value"] == [1]
    assert [e["op"] for e in recorder.effects] == ["cache.set", "cache.delete"]


VALUE_METHODS = [
    pytest.param(lambda api, v: api.id_token.set_custom_claim("c", v),
                 "api.id_token.set_custom_claim", id="id_token"),
    pytest.param(lambda api, v: api.access_token.set_custom_claim("c", v),
                 "api.access_token.set_custom_claim", id="access_token"),
    pytest.param(lambda api, v: api.user.set_app_metadata("m", v),
                 "api.user.set_app_metadata", id="app_metadata"),
    pytest.param(lambda api, v: api.user.set_user_metadata("m", v),
                 "api.user.set_user_metadata", id="user_metadata"),
    pytest.param(lambda api, v: api.cache.set("k", v), "api.cache.set", id="cache"),
]


@pytest.mark.parametrize(("method", "prefix"), VALUE_METHODS)
@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_bad_values_are_refused_by_every_value_method(
        method: Callable[[Any, Any], Any], prefix: str, make_value: Callable[[], Any],
        fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    message = assert_refused(recorder, lambda: method(api, make_value()), fragment)
    assert message.startswith(prefix + ": ")


BAD_CALLS = [
    (lambda api: api.id_token.set_custom_claim("sub", "x"),
     "api.id_token.set_custom_claim: claim name 'sub' is reserved by the platform"),
    (lambda api: api.access_token.set_custom_claim("permissions", []), "'permissions' is reserved"),
    (lambda api: api.access_token.set_custom_claim("scope", "admin"), "'scope' is reserved"),
    (lambda api: api.id_token.set_custom_claim("urn:auth0:x", 1), "is reserved"),
    (lambda api: api.id_token.set_custom_claim("https://tenant.auth0.com/x", 1),
     "namespace 'tenant.auth0.com' is reserved"),
    (lambda api: api.id_token.set_custom_claim("", 1), "claim name must not be empty"),
    (lambda api: api.id_token.set_custom_claim(7, 1), "claim name must be a str, not int"),
    (lambda api: api.id_token.set_custom_claim("c" * 257, 1), "257 characters, over the 256"),
    (lambda api: api.access.deny(None), "api.access.deny: reason must be a str, not NoneType"),
    (lambda api: api.access.deny("r" * 1025), "reason is 1025 characters, over the 1024 limit"),
    (lambda api: api.access.deny(Str("no")), "reason must be a str, not Str"),
    (lambda api: api.access_token.add_scope("read write"), "must be a single token"),
    (lambda api: api.access_token.add_scope('a"b'), "must be a single token"),
    (lambda api: api.access_token.remove_scope(""), "scope must not be empty"),
    (lambda api: api.access_token.remove_scope(["a"]), "scope must be a str, not list"),
    (lambda api: api.multifactor.enable("sms-magic"), "api.multifactor.enable: unknown provider"),
    (lambda api: api.multifactor.enable(None), "unknown provider NoneType"),
    (lambda api: api.multifactor.enable("any", allow_remember_browser=1),
     "allow_remember_browser must be True or False, not int"),
    (lambda api: api.redirect.send_user_to("javascript:alert(1)"), "must be an absolute http(s) URL"),
    (lambda api: api.redirect.send_user_to("/relative"), "must be an absolute http(s) URL"),
    (lambda api: api.redirect.send_user_to("https:///nohost"), "must be an absolute http(s) URL"),
    (lambda api: api.redirect.send_user_to("https://a.example/x y"), "must not contain whitespace"),
    (lambda api: api.redirect.send_user_to("https://a.example/" + "p" * 2048), "over the 2048"),
    (lambda api: api.redirect.send_user_to("https://a.example", query=[("a", "b")]),
     "query must be a dict or None, not list"),
    (lambda api: api.redirect.send_user_to("https://a.example", query={"a": None}),
     "query parameter 'a' must be a str, int, float or bool"),
    (lambda api: api.redirect.send_user_to("https://a.example", query={"a": {"b": 1}}),
     "query parameter 'a' must be a str"),
    (lambda api: api.redirect.send_user_to("https://a.example", query={1: "b"}),
     "query parameter name must be a str, not int"),
    (lambda api: api.user.set_app_metadata("a.b", 1), "must not contain '.' or '$'"),
    (lambda api: api.user.set_user_metadata("$set", 1), "must not contain '.' or '$'"),
    (lambda api: api.user.set_app_metadata("blocked", False),
     "api.user.set_app_metadata: app_metadata name 'blocked' is reserved"),
    (lambda api: api.validation.error("", "m"), "api.validation.error: code must not be empty"),
    (lambda api: api.validation.error("c", 5), "message must be a str, not int"),
    (lambda api: api.transaction.set_metadata(None, 1), "key must be a str"),
    (lambda api: api.multifactor.enable("duo", provider_options=[1]),
     "provider_options must be a dict or None, not list"),
    (lambda api: api.multifactor.enable("duo", provider_options={"f": len}), "not JSON-compatible"),
]


@pytest.mark.parametrize(("call", "fragment"), BAD_CALLS)
def test_bad_arguments_are_refused_and_record_nothing(call: Call, fragment: str) -> None:
    api, recorder = make_api(TRIGGER)
    assert_refused(recorder, lambda: call(api), fragment)


def test_wrong_arity_is_a_plain_type_error() -> None:
    api, recorder = make_api(TRIGGER)
    with pytest.raises(TypeError):
        api.access.deny("a", "b")
    assert recorder.effects == []


def test_user_metadata_name_is_allowed_where_app_metadata_reserves_it() -> None:
    api, recorder = make_api(TRIGGER)
    api.user.set_user_metadata("blocked", True)
    assert recorder.effects == [
        {"op": "user.set_user_metadata", "args": {"name": "blocked", "value": True}}]


def test_event_values_are_unwrapped_into_claims() -> None:
    event = EventView({"authorization": {"roles": ["admin", "ops"]},
                       "user": {"app_metadata": {"plan": {"tier": 2}}}}, {"K": "v"})
    api, recorder = make_api(TRIGGER)
    api.id_token.set_custom_claim("https://my-app.example.com/roles", event.authorization.roles)
    api.access_token.set_custom_claim("meta", event.user.app_metadata)
    api.access_token.set_custom_claim("key", event.secrets.K)
    assert [e["args"]["value"] for e in recorder.effects] == [
        ["admin", "ops"], {"plan": {"tier": 2}}, "v"]


def test_too_many_effects() -> None:
    api, recorder = make_api(TRIGGER, limits=Limits(max_effects=2))
    api.access_token.add_scope("a")
    api.access_token.add_scope("b")
    with pytest.raises(EffectLimitError, match="api.access_token.add_scope: too many api calls: "
                                               "the limit is 2 per action"):
        api.access_token.add_scope("c")
    assert len(recorder.effects) == 2


def test_effects_total_size_limit() -> None:
    api, recorder = make_api(TRIGGER, limits=Limits(effects_limit_bytes=3000))
    api.user.set_user_metadata("a", "x" * 1400)
    api.user.set_user_metadata("b", "x" * 1400)
    with pytest.raises(EffectLimitError, match="effects would total over 3000 bytes"):
        api.user.set_user_metadata("c", "x" * 1400)
    assert [e["args"]["name"] for e in recorder.effects] == ["a", "b"]
    assert isinstance(EffectLimitError("x"), ApiUsageError)


def test_surface_and_immutability() -> None:
    api, _ = make_api(TRIGGER)
    assert_surface(api, {
        "access": {"deny"}, "id_token": {"set_custom_claim"},
        "access_token": {"set_custom_claim", "add_scope", "remove_scope"},
        "multifactor": {"enable"}, "redirect": REDIRECT_METHODS,
        "user": {"set_app_metadata", "set_user_metadata"}, "validation": {"error"},
        "transaction": {"set_metadata"}, "cache": CACHE_METHODS,
        "authentication": {"challenge_with", "challenge_with_any", "enroll_with",
                           "enroll_with_any", "record_method", "set_primary_user"},
        "prompt": {"render"},
        "refresh_token": {"revoke", "set_expires_at", "set_idle_expires_at", "set_metadata",
                          "delete_metadata", "evict_metadata"},
        "session": {"revoke", "set_cookie_mode", "set_expires_at", "set_idle_expires_at",
                    "set_metadata", "delete_metadata", "evict_metadata"},
        "saml_response": SAML_METHODS,
    })
    with pytest.raises(AttributeError, match="api is read-only"):
        api.access = None
    with pytest.raises(AttributeError, match="api.access is read-only"):
        api.access.deny = print
    with pytest.raises(AttributeError, match="api.cache is read-only"):
        del api.cache.get
    assert repr(api.id_token) == "<api.id_token>"
