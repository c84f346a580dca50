"""Plain-value copying, the effect recorder, the wire schema (JSON/msgpack) and apply_to_event."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from sandbox.api_errors import ApiUsageError, EffectLimitError
from sandbox.effect_rules import TRIGGER_OPS
from sandbox.effect_schema import OP_ARGS, OPS, EffectSchemaError, decode_effects, encode_effects
from sandbox.effects import EffectRecorder, apply_to_event
from sandbox.event import EventView
from sandbox.limits import Limits
from sandbox.plain import serialized_size_bytes, to_plain
from sandbox.triggers import TRIGGERS
from tests.sandbox.api_cases import BAD_VALUES

LIMITS = Limits()
SHARED = ["s"]


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), (True, True), (0, 0), (-(2**63), -(2**63)), (2**63 - 1, 2**63 - 1),
    (1.5, 1.5), ("", ""), ("héllo ✓", "héllo ✓"),
    ((1, (2, 3)), [1, [2, 3]]),
    ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
    ([SHARED, SHARED], [["s"], ["s"]]),  # shared, not cyclic: fine
    (EventView({"user": {"roles": ["x"]}}, {"K": "v"}), {"user": {"roles": ["x"]}}),
    (EventView({"user": {"roles": ["x"]}}, {}).user.roles, ["x"]),
])
def test_to_plain_copies_plain_values(value: Any, expected: Any) -> None:
    plain = to_plain(value, LIMITS)
    assert plain == expected
    assert json.loads(json.dumps(plain)) == expected


def test_to_plain_is_a_deep_copy() -> None:
    original = {"a": [1, {"b": 2}]}
    plain = to_plain(original, LIMITS)
    plain["a"][1]["b"] = 3
    assert original == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize(("make_value", "fragment"), BAD_VALUES)
def test_to_plain_refusals(make_value: Callable[[], Any], fragment: str) -> None:
    with pytest.raises(ApiUsageError, match=None) as caught:
        to_plain(make_value(), LIMITS)
    assert fragment in str(caught.value)
    assert caught.value.method == ""


def test_to_plain_at_exactly_the_value_limit() -> None:
    limits = Limits(effect_value_limit_bytes=10)
    assert to_plain("12345678", limits) == "12345678"  # 10 bytes with quotes
    with pytest.raises(ApiUsageError, match="over the 10-byte limit"):
        to_plain("123456789", limits)
    with pytest.raises(ApiUsageError, match="over the 10-byte limit"):
        to_plain("ééééé", limits)  # 5 characters, 12 bytes serialized: only the exact check sees it


def test_exponential_sharing_is_stopped_early() -> None:
    value: list[Any] = ["x"]
    for _ in range(30):
        value = [value, value]  # 2**30 leaves if copied naively
    with pytest.raises(ApiUsageError, match="byte limit"):
        to_plain(value, LIMITS)


def test_recorder_tracks_effects_and_size() -> None:
    recorder = EffectRecorder(LIMITS, "post-login")
    recorder.record("cache.delete", {"key": "k"})
    recorder.record("access.deny", {"reason": "no"})
    assert recorder.effects == [{"op": "cache.delete", "args": {"key": "k"}},
                                {"op": "access.deny", "args": {"reason": "no"}}]
    assert recorder.size_bytes == sum(serialized_size_bytes(e) for e in recorder.effects)
    with pytest.raises(ApiUsageError, match="'shell.exec' is not an effect of the 'post-login'"):
        recorder.record("shell.exec", {})
    with pytest.raises(ApiUsageError, match="'id_token.set_custom_claim' is not an effect of "
                                            "the 'credentials-exchange' trigger"):
        EffectRecorder(LIMITS, "credentials-exchange").record(
            "id_token.set_custom_claim", {"name": "n", "value": 1})


def test_recorder_limits() -> None:
    recorder = EffectRecorder(Limits(max_effects=1), "post-login")
    recorder.record("cache.delete", {"key": "k"})
    with pytest.raises(EffectLimitError, match="the limit is 1 per action"):
        recorder.record("cache.delete", {"key": "k"})
    assert len(recorder.effects) == 1


SAMPLE = [
    {"op": "access.deny", "args": {"code": "invalid_scope", "reason": "no"}},
    {"op": "id_token.set_custom_claim", "args": {"name": "n", "value": {"a": [1, 2.5, None, "é"]}}},
    {"op": "cache.set", "args": {"key": "k", "value": True, "ttl": None, "expires_at": None}},
    {"op": "authentication.challenge_with",
     "args": {"factor": {"type": "otp"}, "additional_factors": None}},
]


@pytest.mark.parametrize("fmt", ["json", "msgpack"])
def test_encode_decode_roundtrip(fmt: str) -> None:
    data = encode_effects(SAMPLE, fmt)
    assert isinstance(data, bytes)
    assert decode_effects(data, fmt) == SAMPLE
    assert decode_effects(encode_effects([], fmt), fmt) == []


def test_json_encoding_is_compact_utf8() -> None:
    assert encode_effects(SAMPLE[:1], "json") == (
        b'[{"op":"access.deny","args":{"code":"invalid_scope","reason":"no"}}]')


def test_schema_covers_every_op_the_api_can_emit() -> None:
    assert OPS == frozenset(OP_ARGS) and len(OPS) == 59
    assert OPS == {op for ops in TRIGGER_OPS.values() for op in ops}
    assert all(isinstance(args, frozenset) for args in OP_ARGS.values())


BAD_JSON = [
    (b"{not json", "not valid json"),
    (b'\xff\xfe', "not valid json"),
    (b'{"op": "cache.delete"}', "effects must be a list"),
    (b'[1]', "effect 0 must be a map with exactly 'op' and 'args'"),
    (b'[{"op": "cache.delete"}]', "exactly 'op' and 'args'"),
    (b'[{"op": "cache.delete", "args": {"key": "k"}, "x": 1}]', "exactly 'op' and 'args'"),
    (b'[{"op": "os.system", "args": {}}]', "unknown op 'os.system'"),
    (b'[{"op": 5, "args": {}}]', "unknown op '5'"),
    (b'[{"op": "cache.delete", "args": {"key": "k", "extra": 1}}]', "(cache.delete) has wrong args"),
    (b'[{"op": "cache.delete", "args": ["key"]}]', "has wrong args"),
    (b'[{"op": "access.deny", "args": {"code": "x"}}]', "has wrong args"),
    (b'[{"op": "cache.set", "args": {"key": "k", "value": NaN, "ttl": null, "expires_at": null}}]',
     "NaN"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid json"),
    (b'[{"op": "cache.set", "args": {"key": "k", "value": 1e999, "ttl": null, "expires_at": null}}]',
     "non-finite"),
]


@pytest.mark.parametrize(("data", "fragment"), BAD_JSON)
def test_decode_rejects_malformed_json(data: bytes, fragment: str) -> None:
    with pytest.raises(EffectSchemaError) as caught:
        decode_effects(data, "json")
    assert fragment in str(caught.value)


BAD_MSGPACK = [
    (b"\xc1", "not valid msgpack"),
    (msgpack.packb([1]) + b"\x00", "not valid msgpack"),  # trailing bytes
    (msgpack.packb({"op": 1}), "effects must be a list"),
    (msgpack.packb([{"op": "cache.delete", "args": {"key": b"raw"}}], use_bin_type=True),
     "type bytes is not plain JSON"),
    (msgpack.packb([{"op": "cache.delete", "args": {1: "k"}}]), "has wrong args"),
    (msgpack.packb([{"op": "cache.set", "args": {"key": "k", "value": {1: 2}, "ttl": None,
                                                 "expires_at": None}}]),
     "non-string key"),
    (msgpack.packb([{"op": "cache.set", "args": {"key": "k", "value": msgpack.ExtType(5, b"x"),
                                                 "ttl": None, "expires_at": None}}]), "type ExtType"),
]


@pytest.mark.parametrize(("data", "fragment"), BAD_MSGPACK)
def test_decode_rejects_malformed_msgpack(data: bytes, fragment: str) -> None:
    with pytest.raises(EffectSchemaError) as caught:
        decode_effects(data, "msgpack")
    assert fragment in str(caught.value)


def test_encode_validates_and_formats_are_closed() -> None:
    with pytest.raises(EffectSchemaError, match="unknown op"):
        encode_effects([{"op": "nope", "args": {}}], "json")
    with pytest.raises(EffectSchemaError, match="unknown effect format 'pickle'"):
        encode_effects([], "pickle")
    with pytest.raises(EffectSchemaError, match="unknown effect format 'yaml'"):
        decode_effects(b"[]", "yaml")


def test_apply_to_event_merges_metadata_for_the_next_action() -> None:
    event = {"user": {"user_id": "u1", "app_metadata": {"plan": "free", "keep": 1}},
             "client": {"client_id": "c"}}
    effects = [
        {"op": "user.set_app_metadata", "args": {"name": "plan", "value": "gold"}},
        {"op": "user.set_user_metadata", "args": {"name": "theme", "value": {"mode": "dark"}}},
        {"op": "user.set_app_metadata", "args": {"name": "keep", "value": None}},
        {"op": "id_token.set_custom_claim", "args": {"name": "plan", "value": "ignored"}},
        {"op": "user.set_app_metadata", "args": {"name": "gone", "value": None}},
    ]
    updated = apply_to_event(event, effects)
    assert updated == {
        "user": {"user_id": "u1", "app_metadata": {"plan": "gold"},
                 "user_metadata": {"theme": {"mode": "dark"}}},
        "client": {"client_id": "c"},
    }
    assert event["user"]["app_metadata"] == {"plan": "free", "keep": 1}  # input untouched
    effects[1]["args"]["value"]["mode"] = "light"
    assert updated["user"]["user_metadata"]["theme"] == {"mode": "dark"}


def test_apply_to_event_creates_user_and_ignores_other_ops() -> None:
    assert apply_to_event({}, [{"op": "user.set_user_metadata",
                                "args": {"name": "a", "value": 1}}]) == {
        "user": {"user_metadata": {"a": 1}}}
    event = {"user": {"email": "e"}}
    assert apply_to_event(event, [{"op": "cache.delete", "args": {"key": "k"}}]) == event


def test_every_trigger_has_an_api_layout() -> None:
    from sandbox.api import NAMESPACES
    assert set(NAMESPACES) == set(TRIGGERS)
