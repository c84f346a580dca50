"""api.redirect.encode_token / validate_token: Auth0's claims, and every bad token refused clearly."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from sandbox.api import build_api
from sandbox.api_errors import ApiUsageError
from sandbox.apis.redirect import TokenValidationError
from sandbox.effects import EffectRecorder
from sandbox.limits import Limits

SECRET = "k" * 32
EVENT = {"tenant": {"id": "acme"}, "user": {"user_id": "auth0|1"}, "request": {"ip": "203.0.113.9"}}


def redirect(event: dict[str, Any] | None = None) -> Any:
    limits = Limits()
    return build_api("post-login", EffectRecorder(limits, "post-login"), {}, limits,
                     EVENT if event is None else event).redirect


def returned(token: Any, where: str = "query", name: str = "session_token") -> Any:
    return redirect({**EVENT, "request": {where: {name: token}}})


def test_encode_sets_auth0_claims_and_records_nothing() -> None:
    limits = Limits()
    recorder = EffectRecorder(limits, "post-login")
    api = build_api("post-login", recorder, {}, limits, EVENT)
    before = int(time.time())
    token = api.redirect.encode_token(SECRET, {"plan": "gold", "sub": "someone-else"}, 60)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == "acme" and claims["sub"] == "auth0|1"  # the platform's claims win
    assert claims["ip"] == "203.0.113.9" and claims["plan"] == "gold"
    assert before <= claims["iat"] <= before + 2 and claims["exp"] == claims["iat"] + 60
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert recorder.effects == []


def test_round_trip_from_query_or_body() -> None:
    token = redirect().encode_token(SECRET, {"n": 1})
    assert returned(token).validate_token(SECRET)["n"] == 1
    assert returned(token, "body", "t").validate_token(SECRET, token_parameter_name="t")["n"] == 1


def _forged(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    base = {"iss": "acme", "sub": "auth0|1", "exp": int(time.time()) + 60}
    return jwt.encode({**base, **claims}, secret, algorithm=algorithm)


def _tampered() -> str:
    header, _payload, signature = redirect().encode_token(SECRET, {"plan": "gold"}).split(".")
    other = _forged({"plan": "platinum"}, "z" * 32).split(".")[1]
    return f"{header}.{other}.{signature}"


BAD_TOKENS: list[tuple[Callable[[], Any], str]] = [
    (_tampered, "the token's signature does not match the secret"),
    (lambda: _forged({}, "w" * 32), "the token's signature does not match the secret"),
    (lambda: _forged({"exp": int(time.time()) - 5}), "the token has expired"),
    (lambda: _forged({"iss": "other-tenant"}), "issued for another tenant"),
    (lambda: _forged({"sub": "auth0|2"}), "issued for another user"),
    (lambda: jwt.encode({"iss": "acme", "sub": "auth0|1"}, SECRET, algorithm="HS256"),
     "the token has no 'exp' claim"),
    (lambda: _forged({}, SECRET * 2, "HS512"), "not signed with HS256"),
    (lambda: jwt.encode({"iss": "acme", "sub": "auth0|1", "exp": int(time.time()) + 60}, None,
                        algorithm="none"), "not signed with HS256"),
    (lambda: "not.a.jwt", "not a valid JWT"),
    (lambda: "x" * 9000, "over 8192 characters"),
    (lambda: 12, "event.request.query.session_token is not a token"),
]


@pytest.mark.parametrize(("make", "message"), BAD_TOKENS)
def test_bad_tokens_raise_a_clear_error(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(TokenValidationError) as caught:
        returned(make()).validate_token(SECRET)
    assert str(caught.value).startswith("api.redirect.validate_token: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)  # `except ValueError` in an action catches it


def test_missing_token() -> None:
    with pytest.raises(TokenValidationError, match="no 'session_token' parameter"):
        redirect().validate_token(SECRET)


BAD_CALLS: list[tuple[Callable[[Any], Any], str]] = [
    (lambda r: r.encode_token("short", {}), "secret must be at least 32 bytes"),
    (lambda r: r.encode_token(None, {}), "secret must be a str, not NoneType"),
    (lambda r: r.encode_token("k" * 5000, {}), "secret is over 4096 characters"),
    (lambda r: r.validate_token(b"k" * 32), "secret must be a str, not bytes"),
    (lambda r: r.encode_token(SECRET, [1]), "payload must be a dict, not list"),
    (lambda r: r.encode_token(SECRET, {"f": len}), "is not JSON-compatible"),
    (lambda r: r.encode_token(SECRET, {"x": "y" * 2000}), "payload is over 1024 bytes"),
    (lambda r: r.encode_token(SECRET, {}, 0), "expires_in_seconds must be an int from 1"),
    (lambda r: r.encode_token(SECRET, {}, True), "expires_in_seconds must be an int from 1"),
    (lambda r: r.encode_token(SECRET, {}, 10**9), "expires_in_seconds must be an int from 1"),
    (lambda r: r.validate_token(SECRET, ""), "token_parameter_name must be a non-empty str"),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS)
def test_bad_arguments_are_refused(call: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(ApiUsageError) as caught:
        call(redirect())
    assert message in str(caught.value)


def test_a_token_needs_a_tenant_and_a_user() -> None:
    with pytest.raises(ApiUsageError, match="no tenant.id"):
        redirect({"user": {"user_id": "u"}}).encode_token(SECRET, {})
    with pytest.raises(ApiUsageError, match="no user.user_id"):
        redirect({"tenant": {"id": "acme"}}).encode_token(SECRET, {})
