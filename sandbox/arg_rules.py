"""Argument rules of the effect table: each checks one argument and says its JSON Schema.

A rule is called as `rule(value, limits)` and returns the clean value or raises
ApiUsageError. Its `schema` is what docs/openapi.yaml publishes for that argument, so the
documented effect schema is derived from the very rules the worker enforces.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.apis import checks
from sandbox.limits import Limits
from sandbox.plain import to_plain

JS_SAFE_INT = 2**53 - 1  # Auth0 refuses numbers that fail Number.isSafeInteger
FACTOR_LIST_LIMIT = 16
NAME_SCHEMA: Mapping[str, Any] = MappingProxyType(
    {"type": "string", "minLength": 1, "maxLength": checks.NAME_LIMIT_CHARS})


@dataclass(frozen=True)
class Arg:
    """One argument's rule and the JSON Schema of the values it lets through."""

    check: Callable[[Any, Limits], Any]
    schema: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, value: Any, limits: Limits) -> Any:
        return self.check(value, limits)


def _frozen(schema: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(schema)


def text(what: str, limit_chars: int = checks.TEXT_LIMIT_CHARS) -> Arg:
    return Arg(lambda value, _l: checks.text(value, what, limit_chars),
               _frozen({"type": "string", "maxLength": limit_chars}))


def optional_text(what: str) -> Arg:
    return Arg(lambda value, _l: None if value is None else checks.text(value, what),
               _frozen({"type": ["string", "null"], "maxLength": checks.TEXT_LIMIT_CHARS}))


def sized_text(what: str, limit_bytes: int, *, empty: bool = True) -> Arg:
    """A str of at most `limit_bytes` UTF-8 bytes (JSON Schema can only say characters)."""
    schema: dict[str, Any] = {"type": "string", "maxLength": limit_bytes}
    if not empty:
        schema["minLength"] = 1
    return Arg(lambda value, _l: checks.sized_text(value, what, limit_bytes, empty=empty),
               _frozen(schema))


def name(what: str, limit_chars: int = checks.NAME_LIMIT_CHARS) -> Arg:
    def check(value: Any, _limits: Limits) -> str:
        clean = checks.name(value, what)
        if len(clean) > limit_chars:
            raise ApiUsageError(f"{what} is {len(clean)} characters, over the {limit_chars} limit")
        return clean
    return Arg(check, _frozen({"type": "string", "minLength": 1, "maxLength": limit_chars}))


def choice(what: str, allowed: frozenset[str]) -> Arg:
    return Arg(lambda value, _l: checks.choice(value, what, allowed),
               _frozen({"type": "string", "enum": sorted(allowed)}))


def flag(what: str) -> Arg:
    return Arg(lambda value, _l: checks.flag(value, what), _frozen({"type": "boolean"}))


def integer(what: str, low: int, high: int) -> Arg:
    return Arg(lambda value, _l: checks.integer(value, what, low, high),
               _frozen({"type": "integer", "minimum": low, "maximum": high}))


def epoch_ms(what: str) -> Arg:
    return Arg(lambda value, _l: checks.epoch_ms(value, what),
               _frozen({"type": "integer", "minimum": 1, "maximum": checks.EPOCH_MS_LIMIT,
                        "description": "milliseconds since the Unix epoch"}))


def optional(rule: Arg) -> Arg:
    """`rule`, or None."""
    kind = rule.schema.get("type")
    schema = dict(rule.schema)
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    else:
        schema = {"anyOf": [dict(rule.schema), {"type": "null"}]}
    return Arg(lambda value, limits: None if value is None else rule(value, limits),
               _frozen(schema))


def _plain(value: Any, limits: Limits) -> Any:
    return to_plain(value, limits)


PLAIN = Arg(_plain, _frozen({"description": "any JSON value, at most 64 KiB serialized"}))


def _plain_map(what: str) -> Callable[[Any, Limits], Any]:
    def check(value: Any, limits: Limits) -> dict[str, Any] | None:
        if value is None:
            return None
        if type(value) is not dict:
            raise ApiUsageError(f"{what} must be a dict or None, not {type(value).__name__[:64]}")
        plain: dict[str, Any] = to_plain(value, limits)
        return plain
    return check


def optional_map(what: str) -> Arg:
    return Arg(_plain_map(what), _frozen({"type": ["object", "null"]}))


def _check_safe_number(value: Any, what: str) -> None:
    if type(value) is float and not math.isfinite(value):
        raise ApiUsageError(f"{what} {value!r} is not a finite number")
    if type(value) is int and abs(value) > JS_SAFE_INT:
        raise ApiUsageError(f"{what} is outside the safe integer range (+-(2**53 - 1))")


def _scalar_or_none(what: str, limit_bytes: int) -> Callable[[Any, Limits], Any]:
    """Auth0's transaction metadata values: str, number or bool; None removes the key."""
    def check(value: Any, _limits: Limits) -> str | int | float | bool | None:
        if value is None or type(value) is bool:
            return value
        if type(value) is str:
            return checks.sized_text(value, what, limit_bytes)
        if type(value) in (int, float):
            _check_safe_number(value, what)
            return value
        raise ApiUsageError(f"{what} must be a str, int, float, bool or None, not "
                            f"{type(value).__name__[:64]}")
    return check


def scalar_or_none(what: str, limit_bytes: int) -> Arg:
    return Arg(_scalar_or_none(what, limit_bytes), _frozen(
        {"type": ["string", "number", "boolean", "null"], "maxLength": limit_bytes}))


def _saml_value(value: Any, limits: Limits) -> Any:
    """A SAML attribute value: a scalar, a list of scalars, or None (removes the attribute)."""
    if value is None:
        return None
    items = value if type(value) in (list, tuple) else (value,)
    if len(items) > SAML_VALUES_LIMIT:
        raise ApiUsageError(f"a SAML attribute holds at most {SAML_VALUES_LIMIT} values")
    for item in items:
        if type(item) not in (str, int, float, bool):
            raise ApiUsageError("SAML attribute value must be a str, number, bool, a list of "
                                f"those, or None; not {type(item).__name__[:64]}")
        _check_safe_number(item, "SAML attribute value")
    return to_plain(value, limits)


SAML_VALUES_LIMIT = 100
SAML_VALUE = Arg(_saml_value, _frozen({"anyOf": [
    {"type": ["string", "number", "boolean", "null"]},
    {"type": "array", "maxItems": SAML_VALUES_LIMIT,
     "items": {"type": ["string", "number", "boolean"]}},
]}))


def _factor(allowed: frozenset[str]) -> Callable[[Any, Limits], dict[str, Any]]:
    def check(value: Any, limits: Limits) -> dict[str, Any]:
        if type(value) is not dict:
            raise ApiUsageError("factor must be a dict like {'type': 'otp'}")
        extra = set(value) - {"type", "options"}
        if extra:
            raise ApiUsageError(
                f"factor has unknown keys: {', '.join(sorted(map(str, extra)))[:120]}")
        factor: dict[str, Any] = {"type": checks.choice(value.get("type"), "factor type", allowed)}
        if "options" in value:
            if type(value["options"]) is not dict:
                raise ApiUsageError("factor options must be a dict")
            factor["options"] = value["options"]
        plain: dict[str, Any] = to_plain(factor, limits)
        return plain
    return check


def _factor_schema(allowed: frozenset[str]) -> dict[str, Any]:
    return {"type": "object", "required": ["type"], "additionalProperties": False,
            "properties": {"type": {"type": "string", "enum": sorted(allowed)},
                           "options": {"type": "object"}}}


def factor(allowed: frozenset[str]) -> Arg:
    return Arg(_factor(allowed), _frozen(_factor_schema(allowed)))


def _factor_list(allowed: frozenset[str], what: str, *, empty: bool
                 ) -> Callable[[Any, Limits], list[dict[str, Any]]]:
    one = _factor(allowed)

    def check(value: Any, limits: Limits) -> list[dict[str, Any]]:
        if type(value) not in (list, tuple):
            raise ApiUsageError(f"{what} must be a list of factors like [{{'type': 'otp'}}]")
        if not empty and not value:
            raise ApiUsageError(f"{what} must name at least one factor")
        if len(value) > FACTOR_LIST_LIMIT:
            raise ApiUsageError(f"{what} names {len(value)} factors, over the "
                                f"{FACTOR_LIST_LIMIT} limit")
        return [one(item, limits) for item in value]
    return check


def factor_list(allowed: frozenset[str], what: str) -> Arg:
    """A non-empty list of factors (challenge_with_any's `factors`)."""
    return Arg(_factor_list(allowed, what, empty=False), _frozen(
        {"type": "array", "minItems": 1, "maxItems": FACTOR_LIST_LIMIT,
         "items": _factor_schema(allowed)}))


def optional_factor_list(allowed: frozenset[str], what: str) -> Arg:
    """challenge_with's `additional_factors`: a list of factors, or None."""
    strict = _factor_list(allowed, what, empty=True)
    return Arg(lambda value, limits: None if value is None else strict(value, limits), _frozen(
        {"type": ["array", "null"], "maxItems": FACTOR_LIST_LIMIT,
         "items": _factor_schema(allowed)}))


def _text_list(what: str, limit_items: int, limit_bytes: int
               ) -> Callable[[Any, Limits], list[str]]:
    def check(value: Any, _limits: Limits) -> list[str]:
        if type(value) not in (list, tuple):
            raise ApiUsageError(f"{what} must be a list of str")
        if len(value) > limit_items:
            raise ApiUsageError(f"{what} has {len(value)} items, over the {limit_items} limit")
        return [checks.sized_text(item, f"{what} item", limit_bytes, empty=False)
                for item in value]
    return check


def text_list(what: str, limit_items: int, limit_bytes: int) -> Arg:
    return Arg(_text_list(what, limit_items, limit_bytes), _frozen(
        {"type": "array", "maxItems": limit_items,
         "items": {"type": "string", "minLength": 1, "maxLength": limit_bytes}}))


URL = Arg(lambda value, _l: checks.url(value), _frozen(
    {"type": "string", "minLength": 1, "maxLength": checks.URL_LIMIT_CHARS,
     "description": "absolute http(s) URL"}))
QUERY = Arg(lambda value, limits: to_plain(checks.query(value), limits), _frozen(
    {"type": ["object", "null"],
     "additionalProperties": {"type": ["string", "number", "boolean"]}}))
