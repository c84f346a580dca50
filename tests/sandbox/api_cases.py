"""Tables shared by the per-trigger api tests: bad values, cache calls, and the surface walk."""
from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest

from sandbox.api import Api, build_api
from sandbox.api_errors import ApiUsageError
from sandbox.effects import EffectRecorder
from sandbox.event import EventView
from sandbox.limits import Limits


def make_api(trigger: str, limits: Limits | None = None,
             cache: dict[str, Any] | None = None) -> tuple[Api, EffectRecorder]:
    limits = limits or Limits()
    recorder = EffectRecorder(limits, trigger)
    return build_api(trigger, recorder, cache or {}, limits), recorder


def assert_refused(recorder: EffectRecorder, call: Callable[[], Any], fragment: str) -> str:
    with pytest.raises(ApiUsageError) as caught:
        call()
    assert fragment in str(caught.value)
    assert recorder.effects == []
    return str(caught.value)


class Tenant:
    """A tenant-defined object: never crosses the api boundary."""


class Str(str):
    def __eq__(self, other: object) -> bool:  # the kind of trick a subclass could play
        return True

    __hash__ = str.__hash__


class Dict(dict):  # type: ignore[type-arg]
    pass


def _cyclic_list() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


def _cyclic_dict() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = {"up": loop}
    return loop


def _nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


# (factory of a bad value, fragment of the refusal). Factories: some values must be fresh.
BAD_VALUES = [
    pytest.param(lambda: {1, 2}, "type 'set' is not JSON-compatible", id="set"),
    pytest.param(lambda: b"raw", "type 'bytes' is not JSON-compatible", id="bytes"),
    pytest.param(lambda: len, "is not JSON-compatible", id="builtin-callable"),
    pytest.param(lambda: (lambda: 1), "type 'function' is not JSON-compatible", id="lambda"),
    pytest.param(lambda: (x for x in "ab"), "type 'generator'", id="generator"),
    pytest.param(lambda: Tenant(), "type 'Tenant' is not JSON-compatible", id="tenant-object"),
    pytest.param(lambda: Str("x"), "'Str' is a subclass of str", id="str-subclass"),
    pytest.param(lambda: Dict(a=1), "'Dict' is a subclass of dict", id="dict-subclass"),
    pytest.param(lambda: {"k": [Str("x")]}, "subclass of str", id="nested-str-subclass"),
    pytest.param(lambda: float("nan"), "float value nan", id="nan"),
    pytest.param(lambda: [float("inf")], "float value inf", id="inf"),
    pytest.param(lambda: 2**64, "outside the 64-bit range", id="huge-int"),
    pytest.param(lambda: {1: "one"}, "dict key of type 'int'", id="int-key"),
    pytest.param(_cyclic_list, "reference cycle", id="cyclic-list"),
    pytest.param(_cyclic_dict, "reference cycle", id="cyclic-dict"),
    pytest.param(lambda: _nested(40), "deeper than 32 levels", id="too-deep"),
    pytest.param(lambda: "x" * 70_000, "over the 65536-byte limit", id="oversize-str"),
    pytest.param(lambda: ["y" * 1000] * 100, "over the 65536-byte limit", id="oversize-list"),
    pytest.param(lambda: "\ud800", "lone surrogate", id="surrogate"),
    pytest.param(lambda: EventView({}, {"K": "v"}).secrets, "event.secrets cannot be copied",
                 id="secrets-view"),
]

# Cache calls every trigger offers: (call, expected effect or None, expected return).
CACHE_CALLS = [
    pytest.param(lambda api: api.cache.set("k", {"n": 1}),
                 {"op": "cache.set", "args": {"key": "k", "value": {"n": 1}, "ttl": None,
                                              "expires_at": None}},
                 {"type": "success"}, id="cache.set"),
    pytest.param(lambda api: api.cache.set("k", "v", ttl=60_000),
                 {"op": "cache.set", "args": {"key": "k", "value": "v", "ttl": 60_000,
                                              "expires_at": None}},
                 {"type": "success"}, id="cache.set-ttl"),
    pytest.param(lambda api: api.cache.set("k", "v", expires_at=4_102_444_800_000),
                 {"op": "cache.set", "args": {"key": "k", "value": "v", "ttl": None,
                                              "expires_at": 4_102_444_800_000}},
                 {"type": "success"}, id="cache.set-expires_at"),
    pytest.param(lambda api: api.cache.delete("old"),
                 {"op": "cache.delete", "args": {"key": "old"}}, {"type": "success"},
                 id="cache.delete"),
    pytest.param(lambda api: api.cache.get("seen"), None,
                 {"value": [1, 2], "expires_at": 4_102_444_800_000}, id="cache.get-hit"),
    pytest.param(lambda api: api.cache.get("absent"), None, None, id="cache.get-miss"),
    pytest.param(lambda api: api.cache.get("expired"), None, None, id="cache.get-expired"),
]
CACHE_SEED = {"seen": {"value": [1, 2], "expires_at": 4_102_444_800_000},
              "old": {"value": True, "expires_at": 4_102_444_800_000},
              "expired": {"value": 1, "expires_at": 1}}

CACHE_BAD_CALLS = [
    pytest.param(lambda api: api.cache.set("", 1), "api.cache.set: key must not be empty", id="empty"),
    pytest.param(lambda api: api.cache.set(1, 1), "api.cache.set: key must be a str, not int",
                 id="int-key"),
    pytest.param(lambda api: api.cache.set("k" * 65, 1), "key is 65 characters, over the 64-byte limit",
                 id="long-key"),
    pytest.param(lambda api: api.cache.set("é" * 33, 1), "key is 66 bytes, over the 64-byte",
                 id="long-key-in-bytes"),
    pytest.param(lambda api: api.cache.set(Str("k"), 1), "key must be a str, not Str",
                 id="str-subclass-key"),
    pytest.param(lambda api: api.cache.set("k", {1}), "api.cache.set: value of type 'set'",
                 id="set-value"),
    pytest.param(lambda api: api.cache.set("k", 1, ttl=0), "ttl must be an int from 1 to 86400000",
                 id="ttl-0"),
    pytest.param(lambda api: api.cache.set("k", 1, ttl=86_400_001), "ttl must be an int",
                 id="ttl-over-24h"),
    pytest.param(lambda api: api.cache.set("k", 1, ttl=1.5), "ttl must be an int from 1 to "
                 "86400000, not float", id="ttl-float"),
    pytest.param(lambda api: api.cache.set("k", 1, ttl=True), "not bool", id="ttl-bool"),
    pytest.param(lambda api: api.cache.set("k", 1, expires_at=0), "expires_at must be an int",
                 id="expires_at-0"),
    pytest.param(lambda api: api.cache.set("k", 1, expires_at=10**20), "expires_at must be an int",
                 id="expires_at-huge"),
    pytest.param(lambda api: api.cache.set("k", 1, expires_at="soon"), "not str",
                 id="expires_at-str"),
    pytest.param(lambda api: api.cache.delete(None), "api.cache.delete: key must be a str",
                 id="delete-none"),
    pytest.param(lambda api: api.cache.get(["k"]), "api.cache.get: key must be a str",
                 id="get-list"),
]

ALL_NAMESPACES = frozenset({
    "access", "id_token", "access_token", "multifactor", "redirect", "user", "validation",
    "transaction", "authentication", "cache", "prompt", "refresh_token", "saml_response",
    "session",
})
CACHE_METHODS = {"get", "set", "delete"}
REDIRECT_METHODS = {"send_user_to", "encode_token", "validate_token"}


def public_names(obj: Any) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_")}


def assert_surface(api: Api, expected: dict[str, set[str]]) -> None:
    """The api offers exactly `expected` (namespace -> methods); the rest is absent, and no public
    attribute chain hands out a dict, a class, a module or the recorder."""
    assert public_names(api) == set(expected)
    for name, methods in expected.items():
        namespace = getattr(api, name)
        assert public_names(namespace) == methods, name
        for method in methods:
            bound = getattr(namespace, method)
            assert isinstance(bound, types.MethodType)
            assert public_names(bound) == set()
        for value in (getattr(namespace, m) for m in methods):
            assert not isinstance(value, (dict, type, types.ModuleType, EffectRecorder, Limits))
    for absent in ALL_NAMESPACES - set(expected):
        with pytest.raises(AttributeError, match=f"api.{absent} is not available"):
            getattr(api, absent)
