"""The worker refuses forged arguments of every newer op, whatever the child claims.

A child that escaped the language layer can send any effect list; these are the forgeries the
api objects would never record. Each fails the action with `invalid_effect` and a message
naming the effect and the problem (tests/worker/test_verdict.py has the older ops).
"""
from __future__ import annotations

from typing import Any

import pytest

from sandbox.limits import Limits
from worker import protocol
from worker.verdict import judge

AT = 1_767_225_600_000


def judged(effects: list[Any], trigger: str = "post-login",
           cache: dict[str, Any] | None = None) -> Any:
    reply = {"op": protocol.RESULT, "job": 1, "compiled": False, "outcome": {
        "status": "ok", "effects": effects, "logs": "", "duration_ms": 0.0, "error": None}}
    return judge(reply, job=1, trigger_id=trigger, limits=Limits(),
                 cache_keys={} if cache is None else cache, elapsed_ms=1.0)


def effect(op: str, **args: Any) -> dict[str, Any]:
    return {"op": op, "args": args}


FACTOR = {"type": "otp"}
FORGED = [
    ("session revoke without its flag", effect("session.revoke", reason="r"),
     "session.revoke takes exactly the arguments reason, preserve_refresh_tokens"),
    ("session expiry a float", effect("session.set_expires_at", absolute=1.5),
     "absolute must be an int"),
    ("session expiry negative", effect("session.set_idle_expires_at", inactivity=-1),
     "inactivity must be an int from 1"),
    ("session metadata a map", effect("session.set_metadata", key="k", value={"a": 1}),
     "value must be a str, not dict"),
    ("evict with an argument", effect("refresh_token.evict_metadata", key="k"),
     "refresh_token.evict_metadata takes exactly the arguments no"),
    ("refresh token revoke with a flag", effect("refresh_token.revoke", reason="r",
                                                preserve_refresh_tokens=True),
     "takes exactly the arguments reason"),
    ("cookie mode unknown", effect("session.set_cookie_mode", mode="forever"), "unknown mode"),
    ("challenge without additional_factors", effect("authentication.challenge_with",
                                                    factor=FACTOR), "takes exactly"),
    ("challenge with a bad extra factor", effect("authentication.challenge_with", factor=FACTOR,
                                                 additional_factors=[{"type": "sms"}]),
     "unknown factor type 'sms'"),
    ("challenge_with_any empty", effect("authentication.challenge_with_any", factors=[]),
     "at least one factor"),
    ("enroll with email", effect("authentication.enroll_with", factor={"type": "email"},
                                 additional_factors=None), "unknown factor type 'email'"),
    ("record_method to javascript:", effect("authentication.record_method",
                                            provider_url="javascript:alert(1)"),
     "absolute http(s) URL"),
    ("primary user too long", effect("authentication.set_primary_user",
                                     primary_user_id="u" * 129), "over the 128 limit"),
    ("mfa provider options not a map", effect("multifactor.enable", provider="duo",
                                              allow_remember_browser=False, provider_options=[1]),
     "provider_options must be a dict or None"),
    ("prompt id empty", effect("prompt.render", prompt_id="", fields=None, vars=None),
     "prompt_id must not be empty"),
    ("prompt vars with bytes", effect("prompt.render", prompt_id="p", fields=None,
                                      vars={"b": b"x"}), "not JSON-compatible"),
    ("transaction metadata a list", effect("transaction.set_metadata", key="k", value=[1]),
     "value must be a str, int, float, bool or None"),
    ("transaction metadata unsafe int", effect("transaction.set_metadata", key="k", value=2**60),
     "safe integer range"),
    ("transaction metadata old arg name", effect("transaction.set_metadata", name="k", value=1),
     "takes exactly the arguments key, value"),
    ("saml attribute a map", effect("saml_response.set_attribute", attribute="a",
                                    value={"x": 1}), "SAML attribute value must be"),
    ("saml algorithm sha1", effect("saml_response.set_signature_algorithm",
                                   signature_algorithm="rsa-sha1"), "unknown signature_algorithm"),
    ("saml cert too big", effect("saml_response.set_cert", cert="c" * 4097), "4096-byte limit"),
    ("saml lifetime a str", effect("saml_response.set_lifetime_in_seconds",
                                   lifetime_in_seconds="3600"), "must be an int"),
    ("saml flag an int", effect("saml_response.set_sign_response", sign_response=1),
     "must be True or False"),
    ("cache key too long", effect("cache.set", key="k" * 65, value=1, ttl=None, expires_at=None),
     "over the 64-byte limit"),
    ("cache ttl past 24 hours", effect("cache.set", key="k", value=1, ttl=86_400_001,
                                       expires_at=None), "ttl must be an int from 1 to 86400000"),
    ("cache old ttl_ms", effect("cache.set", key="k", value=1, ttl_ms=5),
     "takes exactly the arguments key, value, ttl, expires_at"),
]


@pytest.mark.parametrize(("forged", "fragment"), [f[1:] for f in FORGED], ids=[f[0] for f in FORGED])
def test_a_forged_effect_fails_the_action(forged: dict[str, Any], fragment: str) -> None:
    outcome = judged([effect("session.set_expires_at", absolute=AT), forged])
    assert (outcome.status, outcome.effects) == ("error", [])
    assert outcome.error["class"] == "invalid_effect"
    assert f"effect 1 ({forged['op']})" in outcome.error["message"]
    assert fragment in outcome.error["message"]


FORGED_RESET = [
    ("result url to javascript:", effect("transaction.set_result_url", url="javascript:x",
                                         query=None), "absolute http(s) URL"),
    ("a post-login op", effect("session.revoke", reason="r", preserve_refresh_tokens=False),
     "is not an effect of the 'password-reset-post-challenge' trigger"),
    ("enrollment is post-login only", effect("authentication.enroll_with", factor=FACTOR,
                                             additional_factors=None), "is not an effect of"),
]


@pytest.mark.parametrize(("forged", "fragment"), [f[1:] for f in FORGED_RESET],
                         ids=[f[0] for f in FORGED_RESET])
def test_a_forged_password_reset_effect_fails_the_action(forged: dict[str, Any],
                                                         fragment: str) -> None:
    outcome = judged([forged], trigger="password-reset-post-challenge")
    assert outcome.error["class"] == "invalid_effect"
    assert fragment in outcome.error["message"]


def test_totals_across_effects_are_the_workers() -> None:
    metadata = [effect("transaction.set_metadata", key=f"k{i}", value="v" * 8000) for i in range(3)]
    over = judged(metadata)
    assert "transaction metadata would total" in over.error["message"]
    twice = judged([effect("authentication.set_primary_user", primary_user_id="a")] * 2)
    assert "once per transaction" in twice.error["message"]
    attributes = [effect("saml_response.set_attribute", attribute=f"a{i}", value=1)
                  for i in range(101)]
    assert "at most 100 SAML attributes" in judged(attributes).error["message"]


def test_honest_effects_of_the_newer_ops_pass() -> None:
    honest = [
        effect("session.revoke", reason="r", preserve_refresh_tokens=True),
        effect("refresh_token.set_metadata", key="k", value=None),
        effect("authentication.challenge_with", factor=FACTOR,
               additional_factors=[{"type": "phone"}]),
        effect("saml_response.set_attribute", attribute="groups", value=["a", 1]),
        effect("transaction.set_metadata", key="k", value=True),
        effect("prompt.render", prompt_id="ap_1", fields=None, vars={"a": 1}),
        effect("cache.set", key="k", value={"n": 1}, ttl=1000, expires_at=AT),
    ]
    outcome = judged(honest)
    assert (outcome.status, outcome.effects) == ("ok", honest)
