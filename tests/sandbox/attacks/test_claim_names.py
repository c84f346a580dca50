"""Api names that would pass for the platform's (every spelling of a reserved claim namespace,
claim or app_metadata field) or hide control characters."""
from __future__ import annotations

from typing import Any

import pytest

from sandbox.effect_rules import check_effects
from sandbox.errors import InvalidEffectError
from sandbox.limits import Limits
from tests.sandbox.attacks.runner import expect

AUTH0 = "claim namespace 'auth0.com' is reserved by the platform"

CASES = [
    # Spellings a WHATWG parser (the token's consumers) reads as auth0.com and Python's did not.
    ("https://auth0.com./x", AUTH0),
    ("https://auth0.com../x", AUTH0),
    ("https://auth0%2ecom/x", AUTH0),
    ("https://%61uth0.com/x", AUTH0),
    ("https://%EF%BD%81uth0.com/x", AUTH0),  # a percent-encoded full-width 'a'
    ("auth0.com/claim", AUTH0),
    ("//auth0.com/claim", AUTH0),
    ("auth0.com", AUTH0),
    ("https://auth0.com\\@evil.com/x", AUTH0),
    ("https:/\\auth0.com/x", AUTH0),
    ("https:\\\\auth0.com/x", AUTH0),
    ("https:auth0.com/x", AUTH0),
    ("https:///auth0.com/x", AUTH0),
    ("HTTPS://AUTH0.COM/x", AUTH0),
    ("https://evil@auth0.com/x", AUTH0),
    ("https://user:pw@auth0.com/x", AUTH0),
    ("https://auth0.com:443/x", AUTH0),
    ("https://auth0.com:443", AUTH0),
    ("https://\uff41uth0.com/x", AUTH0),  # full-width 'a': NFKC
    ("https://\uff21\uff35\uff34\uff28\uff10.com/x", AUTH0),  # full-width 'AUTH0'
    ("https://auth0\uff0ecom/x", AUTH0),  # full-width full stop
    ("https://auth0\u3002com/x", AUTH0),  # ideographic full stop
    ("https://au\u200bth0.com/x", AUTH0),  # zero-width space, which IDNA drops
    ("https://xn--auth0-.com/x", AUTH0),  # a punycode label that decodes to 'auth0'
    ("foo://auth0.com/x", AUTH0),
    ("roles@auth0.com", AUTH0),
    ("https://tenant.auth0.com/x", "claim namespace 'tenant.auth0.com' is reserved by the platform"),
    ("https://Tenant.Auth0.Com./x", "claim namespace 'tenant.auth0.com' is reserved"),
    ("https://webtask.io/x", "claim namespace 'webtask.io' is reserved by the platform"),
    ("https://a.WEBTASK.run./x", "claim namespace 'a.webtask.run' is reserved by the platform"),
    # Hosts no URL parser accepts: a clear refusal, never a raw ValueError.
    ("https://[auth0.com]/x", "claim name 'https://[auth0.com]/x': host '[auth0.com]' is not a "
                              "valid [IPv6] address"),
    ("https://[::1/x", "host '[::1' is not a valid [IPv6] address"),
    ("https://%ff.example/x", "host '%ff.example' is not percent-encoded UTF-8"),
    ("https://auth0.com%00/x", "host 'auth0.com%00' contains a character no host may have"),
    ("https://auth0.com%2fx/y", "host 'auth0.com%2fx' contains a character no host may have"),
    ("https://xn--zz!/x", "host 'xn--zz!' has an invalid punycode label"),
    # Refused outright: control characters, whitespace and backslashes.
    ("sub\x00", "claim name 'sub\\x00' must not contain control characters"),
    ("sub\x1f", "claim name 'sub\\x1f' must not contain control characters"),
    ("sub\x7f", "claim name 'sub\\x7f' must not contain control characters"),
    ("sub\x85", "claim name 'sub\\x85' must not contain control characters"),
    ("https://auth0.com\n/x", "must not contain control characters"),
    ("sub ", "claim name 'sub ' must not contain whitespace or '\\'"),
    ("my\u3000claim", "must not contain whitespace or '\\'"),
    ("https://example.com\\x", "claim name 'https://example.com\\\\x' must not contain whitespace"),
    # Reserved claims ignore case and compatibility forms.
    ("Sub", "claim name 'Sub' is reserved by the platform"),
    ("SCOPE", "claim name 'SCOPE' is reserved by the platform"),
    ("\uff53\uff55\uff42", "claim name '\uff53\uff55\uff42' is reserved by the platform"),
    ("InternalService", "claim name 'InternalService' is reserved"),
    ("X5T#s256", "claim name 'X5T#s256' is reserved"),
    ("URN:Auth0:x", "claim name 'URN:Auth0:x' is reserved by the platform"),
]

ALLOWED = [
    "https://my-app.example.com/roles",
    "https://example.com/auth0.com",
    "https://auth0.com.example.com/x",
    "https://notauth0.com/x",
    "https://evil.com/x?auth0.com",
    "https://[::1]/x",
    "tier",
    "subject",
    "x5t",
    "urn:example:auth0",
]


def _claim(name: str) -> str:
    return f"api.id_token.set_custom_claim({name!r}, 1)"


@pytest.mark.parametrize(("name", "fragment"), CASES)
def test_reserved_and_malformed_claim_names_are_refused(name: str, fragment: str) -> None:
    result = expect(_claim(name), "error", "ApiUsageError", fragment)
    assert result.message.startswith("api.id_token.set_custom_claim: ")


@pytest.mark.parametrize("name", ALLOWED)
def test_names_near_the_reserved_ones_are_allowed(name: str) -> None:
    result = expect(_claim(name) + "\nprint('set')", "ok", None, "set\n")
    assert result.outcome is not None
    assert result.outcome.effects == [
        {"op": "id_token.set_custom_claim", "args": {"name": name, "value": 1}}]


def _effects(name: Any) -> list[dict[str, Any]]:
    return [{"op": "id_token.set_custom_claim", "args": {"name": name, "value": 1}}]


# What a compromised child could write on its pipe instead of calling the api: the worker's pass.
WORKER_CASES = [
    ("https://auth0.com./x", AUTH0),
    ("https://auth0%2ecom/x", AUTH0),
    ("https://auth0.com\\@evil.com/x", AUTH0),
    ("https:/\\auth0.com/x", AUTH0),
    ("//auth0.com/claim", AUTH0),
    ("https://\uff41uth0.com/x", AUTH0),
    ("https://[auth0.com]/x", "host '[auth0.com]' is not a valid [IPv6] address"),
    ("Sub", "claim name 'Sub' is reserved by the platform"),
    ("scope\x00", "must not contain control characters"),
]


@pytest.mark.parametrize(("name", "fragment"), WORKER_CASES)
def test_the_worker_refuses_the_same_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidEffectError) as caught:
        check_effects("post-login", _effects(name), Limits(), frozenset())
    assert caught.value.index == 0
    assert caught.value.op == "id_token.set_custom_claim"
    assert fragment in caught.value.problem


def test_the_worker_keeps_an_allowed_name_as_sent() -> None:
    effects = _effects("https://my-app.example.com/roles")
    assert check_effects("post-login", effects, Limits(), frozenset()) == effects


# name(): metadata names, cache keys, validation codes, query parameter names.
NAME_CASES = [
    ("api.user.set_app_metadata('plan\\x00', 1)", "metadata name 'plan\\x00' must not contain control"),
    ("api.user.set_user_metadata('a\\x1bb', 1)", "metadata name 'a\\x1bb' must not contain control"),
    ("api.transaction.set_metadata('a\\x7f', 1)", "key 'a\\x7f' must not contain control"),
    ("api.cache.set('k\\x9b', 'v')", "key 'k\\x9b' must not contain control characters"),
    ("api.validation.error('c\\r\\n', 'm')", "code 'c\\r\\n' must not contain control characters"),
    ("api.redirect.send_user_to('https://a.example', query={'a\\x00': 'b'})",
     "query parameter name 'a\\x00' must not contain control characters"),
    # Auth0's own app_metadata fields, in any case.
    ("api.user.set_app_metadata('Blocked', True)", "app_metadata name 'Blocked' is reserved"),
    ("api.user.set_app_metadata('CLIENTID', 'x')", "app_metadata name 'CLIENTID' is reserved"),
    ("api.user.set_app_metadata('User_Id', 'x')", "app_metadata name 'User_Id' is reserved"),
    ("api.user.set_app_metadata('lastip', 'x')", "app_metadata name 'lastip' is reserved"),
]


@pytest.mark.parametrize(("body", "fragment"), NAME_CASES)
def test_names_with_control_characters_or_reserved_fields_are_refused(body: str,
                                                                      fragment: str) -> None:
    expect(body, "error", "ApiUsageError", fragment)


def test_user_metadata_may_use_the_app_metadata_names() -> None:
    result = expect("api.user.set_user_metadata('Blocked', 1)\nprint('set')", "ok", None, "set\n")
    assert result.outcome is not None
    assert result.outcome.effects == [
        {"op": "user.set_user_metadata", "args": {"name": "Blocked", "value": 1}}]


def test_the_worker_refuses_a_metadata_name_in_another_case() -> None:
    effects = [{"op": "user.set_app_metadata", "args": {"name": "EMAIL", "value": "x"}}]
    with pytest.raises(InvalidEffectError, match="app_metadata name 'EMAIL' is reserved"):
        check_effects("post-login", effects, Limits(), frozenset())
