"""The effect list's wire schema: allowed ops, their argument sets, and JSON/msgpack encode/decode."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgpack

from sandbox.effect_rules import CACHE_OPS, TRIGGER_OPS, OpRule

# op -> the argument-name sets it may carry (access.deny differs per trigger), from the rules.
OP_ARGS: Mapping[str, frozenset[frozenset[str]]] = MappingProxyType({
    op: frozenset(frozenset(ops[op]) for ops in TRIGGER_OPS.values() if op in ops)
    for op in sorted({op for ops in TRIGGER_OPS.values() for op in ops})
})
OPS = frozenset(OP_ARGS)
# What an auth server receives: the cache ops are the runtime's own to apply.
RETURNED_OPS = OPS - CACHE_OPS
FORMATS = frozenset({"json", "msgpack"})
_MAX_DEPTH = 40  # values are capped at 32 levels; the effect and args maps add two more


class EffectSchemaError(ValueError):
    """Raised when an effect list is malformed: bad encoding, unknown op, wrong args, non-JSON value."""


def _check_value(value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise EffectSchemaError("effect value nested too deeply")
    kind = type(value)
    if value is None or kind is str or kind is bool:
        return
    if kind is int:
        if not -(2**63) <= value < 2**64:  # msgpack's integer range
            raise EffectSchemaError("effect value is an integer out of range")
        return
    if kind is float:
        if not math.isfinite(value):
            raise EffectSchemaError("effect value is a non-finite float")
        return
    if kind is list:
        for item in value:
            _check_value(item, depth + 1)
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise EffectSchemaError("effect value has a non-string key")
            _check_value(item, depth + 1)
        return
    raise EffectSchemaError(f"effect value of type {kind.__name__} is not plain JSON")


def validate_effects(effects: Any) -> list[dict[str, Any]]:
    """Check an effect list's shape; returns it unchanged or raises EffectSchemaError."""
    if type(effects) is not list:
        raise EffectSchemaError("effects must be a list")
    for index, effect in enumerate(effects):
        if type(effect) is not dict or set(effect) != {"op", "args"}:
            raise EffectSchemaError(f"effect {index} must be a map with exactly 'op' and 'args'")
        op, args = effect["op"], effect["args"]
        if type(op) is not str or op not in OPS:
            raise EffectSchemaError(f"effect {index} has unknown op {str(op)[:64]!r}")
        if type(args) is not dict or frozenset(args) not in OP_ARGS[op]:
            raise EffectSchemaError(f"effect {index} ({op}) has wrong args")
        _check_value(args, 1)
    return effects


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise EffectSchemaError(f"unknown effect format {fmt!r}")


def encode_effects(effects: list[dict[str, Any]], fmt: str) -> bytes:
    _check_format(fmt)
    validate_effects(effects)
    if fmt == "json":
        return json.dumps(effects, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    return msgpack.packb(effects, use_bin_type=True)


def _refuse_constant(name: str) -> Any:
    raise EffectSchemaError(f"effect value {name} is not plain JSON")


def decode_effects(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """Decode and validate; any malformed input becomes EffectSchemaError, never another error."""
    _check_format(fmt)
    try:
        if fmt == "json":
            effects = json.loads(data, parse_constant=_refuse_constant)
        else:
            effects = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except EffectSchemaError:
        raise
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
        raise EffectSchemaError(f"effects are not valid {fmt}: {type(exc).__name__}") from None
    return validate_effects(effects)


def args_json_schema(op_rules: OpRule) -> dict[str, Any]:
    """The JSON Schema of one op's `args`: every argument present (None when omitted)."""
    return {"type": "object", "additionalProperties": False, "required": list(op_rules),
            "properties": {name: dict(rule.schema) for name, rule in op_rules.items()}}


def op_triggers(op: str) -> list[str]:
    return [trigger for trigger, ops in TRIGGER_OPS.items() if op in ops]


def effect_json_schema() -> dict[str, Any]:
    """docs/openapi.yaml's `Effect`, derived from the rules table: one variant per returned op,
    its `args` exactly the rule's (an op whose arguments differ per trigger lists each form)."""
    variants = []
    for op in sorted(RETURNED_OPS):
        forms: list[dict[str, Any]] = []
        for trigger in op_triggers(op):
            form = args_json_schema(TRIGGER_OPS[trigger][op])
            if form not in forms:
                forms.append(form)
        args = forms[0] if len(forms) == 1 else {"anyOf": forms}
        variants.append({"properties": {"op": {"const": op}, "args": args},
                         "x-triggers": op_triggers(op)})
    return {
        "type": "object",
        "description": "One api call of an action, as the auth server applies it. Generated "
                       "from sandbox/effect_rules.py (python -m sandbox.effect_schema); "
                       "tests/sandbox/test_effect_docs.py keeps it equal to the rules.",
        "required": ["op", "args", "action", "version"],
        "properties": {
            "op": {"type": "string", "enum": sorted(RETURNED_OPS)},
            "args": {"type": "object"},
            "action": {"type": "string"},
            "version": {"type": ["integer", "null"]},
        },
        "oneOf": variants,
    }


if __name__ == "__main__":  # prints the schema for docs/openapi.yaml
    print(json.dumps({"Effect": effect_json_schema()}, indent=2))
