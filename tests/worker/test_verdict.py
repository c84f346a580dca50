"""The worker's verdict on a child's reply: forged effects, flags, errors and logs are refused."""
from __future__ import annotations

from typing import Any

import pytest

from sandbox.limits import Limits
from worker import protocol
from worker.errors import ProtocolError
from worker.verdict import TRUNCATION_MARKER, judge, sanitize_text

LIMITS = Limits(timeout_s=1.0, log_limit_bytes=64, max_effects=3, effects_limit_bytes=400)
CLAIM = {"op": "id_token.set_custom_claim", "args": {"name": "https://a.example/r", "value": 1}}
DENY = {"op": "access.deny", "args": {"reason": "no"}}
DEEP: Any = 1
for _ in range(34):
    DEEP = [DEEP]


def reply(outcome: dict[str, Any], job: int = 7) -> dict[str, Any]:
    return {"op": protocol.RESULT, "job": job, "compiled": False, "outcome": outcome}


def verdict(outcome: dict[str, Any], *, trigger: str = "post-login", elapsed_ms: float = 2.0,
            cache_keys: frozenset[str] | None = frozenset(), job: int = 7) -> Any:
    return judge(reply(outcome, job), job=7, trigger_id=trigger, limits=LIMITS,
                 cache_keys=cache_keys, elapsed_ms=elapsed_ms)


def ok(*effects: dict[str, Any], status: str = "ok") -> dict[str, Any]:
    return {"status": status, "effects": list(effects), "logs": "", "duration_ms": 0.0,
            "error": None}


FORGED_EFFECTS = [
    ("unknown op", {"op": "shell.exec", "args": {}}, "'shell.exec' is not an effect"),
    ("op of another trigger", {"op": "transaction.set_result_url",
                               "args": {"url": "https://a.example", "query": None}},
     "is not an effect of"),
    ("reserved app_metadata", {"op": "user.set_app_metadata",
                               "args": {"name": "blocked", "value": True}}, "is reserved"),
    ("reserved claim", {"op": "id_token.set_custom_claim", "args": {"name": "sub", "value": "x"}},
     "claim name 'sub' is reserved"),
    ("reserved claim host", {"op": "id_token.set_custom_claim",
                             "args": {"name": "https://auth0.com/x", "value": 1}},
     "claim namespace 'auth0.com' is reserved"),
    ("extra argument", {"op": "access.deny", "args": {"reason": "x", "code": "y"}},
     "takes exactly the arguments reason"),
    ("missing argument", {"op": "id_token.set_custom_claim", "args": {"name": "n"}},
     "takes exactly the arguments name, value"),
    ("scope with a space", {"op": "access_token.add_scope", "args": {"scope": "a b"}},
     "single token"),
    ("javascript redirect", {"op": "redirect.send_user_to",
                             "args": {"url": "javascript:alert(1)", "query": None}},
     "absolute http(s) URL"),
    ("integer past 64 bits", {"op": "user.set_app_metadata",
                              "args": {"name": "n", "value": 2**64}}, "64-bit range"),
    ("bytes value", {"op": "user.set_app_metadata", "args": {"name": "n", "value": b"x"}},
     "not JSON-compatible"),
    ("value too deep", {"op": "user.set_app_metadata",
                        "args": {"name": "n", "value": DEEP}},
     "nested deeper than 32"),
    ("value too large", {"op": "user.set_app_metadata",
                         "args": {"name": "n", "value": "x" * 70_000}}, "byte limit"),
    ("MFA provider unknown", {"op": "multifactor.enable",
                              "args": {"provider": "sms-me", "allow_remember_browser": False,
                                       "provider_options": None}},
     "unknown provider"),
    ("flag not a bool", {"op": "multifactor.enable",
                         "args": {"provider": "any", "allow_remember_browser": 1,
                                  "provider_options": None}},
     "must be True or False"),
    ("not a map", ["access.deny", {"reason": "x"}], "not a map of exactly"),
    ("extra key in the effect", {**DENY, "action": "other"}, "not a map of exactly"),
    ("op not a str", {"op": 1, "args": {}}, "not a map of exactly"),
]


@pytest.mark.parametrize(("effect", "fragment"), [f[1:] for f in FORGED_EFFECTS],
                         ids=[f[0] for f in FORGED_EFFECTS])
def test_a_forged_effect_fails_the_action(effect: Any, fragment: str) -> None:
    outcome = verdict(ok(CLAIM, effect))
    assert outcome.status == "error"
    assert outcome.effects == []
    assert outcome.error["class"] == "invalid_effect"
    assert outcome.error["message"].startswith(
        "the action's result failed the worker's checks: effect 1")
    assert fragment in outcome.error["message"]


def test_valid_effects_pass_and_the_worker_derives_the_status() -> None:
    # The child says "ok" but denied; "denied" without a deny; the worker believes neither.
    assert verdict(ok(CLAIM, DENY)).status == "denied"
    assert verdict(ok(CLAIM, status="denied")).status == "ok"
    assert verdict(ok(CLAIM, status="timeout")).effects == [CLAIM]


def test_limits_are_the_workers() -> None:
    too_many = verdict(ok(DENY, DENY, DENY, DENY))
    assert too_many.error["message"].endswith("4 effects, over the limit of 3")
    too_big = verdict(ok(*[{"op": "transaction.set_metadata",
                            "args": {"key": "n", "value": "x" * 150}}] * 3))
    assert "effects total over 400 bytes" in too_big.error["message"]
    not_a_list = verdict({**ok(), "effects": {"op": "x"}})
    assert not_a_list.error["message"].endswith("effects must be a list")


def test_cache_writes_are_bounded_by_the_entries_the_worker_loaded() -> None:
    def cache_set(key: str, value: Any = 1) -> dict[str, Any]:
        return {"op": "cache.set", "args": {"key": key, "value": value, "ttl": None,
                                            "expires_at": None}}

    full = frozenset(f"k{i}" for i in range(20))
    assert verdict(ok(cache_set("k1")), cache_keys=full).status == "ok"  # overwrite
    refused = verdict(ok(cache_set("new")), cache_keys=full)
    assert "the cache holds at most 20 entries" in refused.error["message"]
    big = {"a": {"value": "v" * 4000, "expires_at": None}, "b": {"value": "v" * 4000,
                                                                  "expires_at": None}}
    over = verdict(ok(cache_set("c", "v" * 300)), cache_keys=big)
    assert "over the 8192-byte limit" in over.error["message"]
    huge = verdict(ok(cache_set("c", "v" * 5000)), cache_keys={})
    assert "over the 4096-byte limit" in huge.error["message"]
    freed = ok({"op": "cache.delete", "args": {"key": "k1"}}, cache_set("new"))
    assert verdict(freed, cache_keys=full).status == "ok"
    unknown = verdict(ok(cache_set("k")), cache_keys=None)
    assert "cache was not loaded" in unknown.error["message"]


def test_errors_are_checked_and_a_premature_timeout_claim_is_not_believed() -> None:
    error = {"class": "action_error", "type": "KeyError", "message": "k", "line": 3}
    outcome = verdict({**ok(CLAIM), "status": "error", "error": error})
    assert (outcome.status, outcome.effects, outcome.error) == ("error", [], error)
    early = verdict({**ok(), "error": {**error, "class": "action_timeout"}}, elapsed_ms=5.0)
    assert early.status == "error"
    assert early.error["message"].startswith("the child claimed a timeout after 5 ms")
    late = verdict({**ok(), "error": {**error, "class": "action_timeout"}}, elapsed_ms=1000.0)
    assert late.status == "timeout"


@pytest.mark.parametrize(("outcome", "message"), [
    ({**ok(), "error": {"class": "invalid_effect"}}, "error must be a map with a known class"),
    ({**ok(), "error": {"class": "platform_error"}}, "error must be a map with a known class"),
    ({**ok(), "error": {"class": ["x"]}}, "error must be a map with a known class"),
    ({**ok(), "error": {"class": {"a": 1}}}, "error must be a map with a known class"),
    ({**ok(), "error": {"class": "action_error", "type": "Key Error"}}, "short identifier"),
    ({**ok(), "error": {"class": "action_error", "type": "E" * 65}}, "short identifier"),
    ({**ok(), "error": {"class": "action_error", "line": -1}}, "positive integer"),
    ({**ok(), "error": {"class": "action_error", "line": True}}, "positive integer"),
    ({**ok(), "error": {"class": "action_error", "message": 5}}, "message must be a string"),
    ({**ok(), "logs": b"bytes"}, "logs must be a string"),
    ([1, 2], "outcome is not a map"),
], ids=["class the worker decides", "blame on the platform", "class a list", "class a map",
        "type with a space", "long type", "negative line",
        "bool line", "message not text", "logs not text", "outcome not a map"])
def test_malformed_replies_are_protocol_errors(outcome: Any, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        verdict(outcome)


def test_a_reply_for_another_job_or_of_another_kind_is_refused() -> None:
    with pytest.raises(ProtocolError, match="another job"):
        verdict(ok(), job=8)
    with pytest.raises(ProtocolError, match="unexpected 'ready' frame"):
        judge({"op": "ready", "job": 7}, job=7, trigger_id="post-login", limits=LIMITS,
              cache_keys=None, elapsed_ms=1.0)


def test_logs_are_capped_and_sanitised_by_the_worker() -> None:
    hostile = "ok\n\x1b[2J\x1b]0;pwned\x07\u202eevil\r" + "x" * 500
    logs = verdict({**ok(), "logs": hostile}).logs
    assert logs.startswith("ok\n\\x1b[2J\\x1b]0;pwned\\x07\\u202eevil\\x0d")
    assert logs.endswith(TRUNCATION_MARKER)
    assert len(logs.encode()) <= LIMITS.log_limit_bytes + 3 * len(TRUNCATION_MARKER)
    assert sanitize_text("tab\tand\nnewline stay", 100) == "tab\tand\nnewline stay"
    hidden = sanitize_text("a\u200bb\u200ec\u200fd\u061ce\ufefff", 100)
    assert hidden == "a\\u200bb\\u200ec\\u200fd\\u061ce\\ufefff"
    # Megabytes of control characters are cut before they are escaped, not after.
    assert len(sanitize_text("\x01" * 1_000_000, 64)) <= 65 * 4 + len(TRUNCATION_MARKER)


def test_duration_is_the_workers_clock() -> None:
    assert verdict({**ok(), "duration_ms": 0.001}, elapsed_ms=42.0).duration_ms == 42.0
