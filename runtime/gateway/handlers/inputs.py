"""Validation of management request bodies into the plain specs the store accepts.

Every failure is 422 with a code naming what was wrong; unknown fields are refused
(a typo must not be silently ignored). Secrets in a PATCH are upserted by name, and a
secret sent with `"value": null` is deleted.
"""
from __future__ import annotations

import re
from typing import Any

from runtime.errors import ApiError
from runtime.store.actions import MAX_SECRETS
from runtime.store.bindings import MAX_BINDINGS, REF_TYPES
from runtime.store.tenants import validate_tenant_id
from sandbox.limits import Limits
from sandbox.triggers import TRIGGERS

ACTION_FIELDS = frozenset({"name", "supported_triggers", "code", "secrets"})
BINDINGS_FIELDS = frozenset({"bindings"})
BINDING_FIELDS = frozenset({"ref", "display_name"})
MAX_NAME_CHARS = 100
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_SECRET_VALUE_BYTES = 4 * 1024
SOURCE_LIMIT_BYTES = Limits().source_limit_bytes


def invalid(code: str, message: str) -> ApiError:
    return ApiError(422, code, message)


def _refuse_unknown(body: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in body if k not in allowed)
    if unknown:
        raise invalid("unknown_field", f"unknown field(s) in {where}: {', '.join(unknown)}")


def _name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME_CHARS:
        raise invalid("invalid_name", f"{field} must be a string of 1..{MAX_NAME_CHARS} characters")
    if not value.isprintable() or value != value.strip():
        raise invalid("invalid_name", f"{field} must be printable, without surrounding spaces")
    return value


def _triggers(value: object) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise invalid("invalid_supported_triggers", "supported_triggers must be a non-empty list")
    out: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise invalid("invalid_supported_triggers", "each trigger must be {id, version}")
        _refuse_unknown(item, frozenset({"id", "version"}), "supported_triggers")
        trigger = TRIGGERS.get(item["id"])
        if trigger is None:
            raise invalid("unknown_trigger", f"unknown trigger {item['id']!r}")
        if item.get("version", trigger.version) != trigger.version:
            raise invalid("unsupported_trigger_version",
                          f"trigger {trigger.id!r} is at version {trigger.version!r}")
        if any(t["id"] == trigger.id for t in out):
            raise invalid("invalid_supported_triggers", f"trigger {trigger.id!r} listed twice")
        out.append({"id": trigger.id, "version": trigger.version})
    return out


def _code(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("invalid_code", "code must be a string")
    if len(value.encode("utf-8", "surrogatepass")) > SOURCE_LIMIT_BYTES:
        raise invalid("code_too_large", f"code is over {SOURCE_LIMIT_BYTES} bytes")
    return value


def _secrets(value: object, *, allow_delete: bool) -> dict[str, str | None]:
    if not isinstance(value, list):
        raise invalid("invalid_secrets", "secrets must be a list of {name, value}")
    if len(value) > MAX_SECRETS:
        raise invalid("too_many_secrets", f"an action holds at most {MAX_SECRETS} secrets")
    out: dict[str, str | None] = {}
    for item in value:
        if not isinstance(item, dict):
            raise invalid("invalid_secrets", "each secret must be {name, value}")
        _refuse_unknown(item, frozenset({"name", "value"}), "secrets")
        name, secret = item.get("name"), item.get("value")
        if not isinstance(name, str) or SECRET_NAME.fullmatch(name) is None:
            raise invalid("invalid_secret_name", "secret names must match ^[A-Za-z_][A-Za-z0-9_]{0,63}$")
        if name in out:
            raise invalid("invalid_secrets", f"secret {name!r} listed twice")
        if secret is None and allow_delete and "value" in item:
            out[name] = None
            continue
        if not isinstance(secret, str):
            raise invalid("invalid_secret_value", f"secret {name!r} needs a string value")
        if len(secret.encode("utf-8", "surrogatepass")) > MAX_SECRET_VALUE_BYTES:
            raise invalid("secret_too_large", f"secret {name!r} is over {MAX_SECRET_VALUE_BYTES} bytes")
        out[name] = secret
    return out


def tenant_create(body: dict[str, Any]) -> str:
    _refuse_unknown(body, frozenset({"id"}), "the tenant")
    if "id" not in body:
        raise invalid("missing_field", "id is required")
    return validate_tenant_id(body["id"])


def action_create(body: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown(body, ACTION_FIELDS, "the action")
    for field in ("name", "supported_triggers", "code"):
        if field not in body:
            raise invalid("missing_field", f"{field} is required")
    return {
        "name": _name(body["name"]),
        "supported_triggers": _triggers(body["supported_triggers"]),
        "code": _code(body["code"]),
        "secrets": _secrets(body.get("secrets", []), allow_delete=False),
    }


def action_patch(body: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown(body, ACTION_FIELDS, "the action")
    patch: dict[str, Any] = {}
    if "name" in body:
        patch["name"] = _name(body["name"])
    if "supported_triggers" in body:
        patch["supported_triggers"] = _triggers(body["supported_triggers"])
    if "code" in body:
        patch["code"] = _code(body["code"])
    if "secrets" in body:
        patch["secrets"] = _secrets(body["secrets"], allow_delete=True)
    return patch


def bindings_patch(body: dict[str, Any]) -> list[dict[str, Any]]:
    """[{type, value, display_name or None}] from `{bindings: [{ref: {type, value}, display_name}]}`."""
    _refuse_unknown(body, BINDINGS_FIELDS, "the body")
    items = body.get("bindings")
    if not isinstance(items, list):
        raise invalid("invalid_bindings", "bindings must be a list")
    if len(items) > MAX_BINDINGS:
        raise invalid("too_many_bindings", f"a trigger holds at most {MAX_BINDINGS} bindings")
    refs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("ref"), dict):
            raise invalid("invalid_bindings", "each binding must be {ref: {type, value}, display_name}")
        _refuse_unknown(item, BINDING_FIELDS, "a binding")
        ref = item["ref"]
        _refuse_unknown(ref, frozenset({"type", "value"}), "a binding ref")
        if not isinstance(ref.get("type"), str) or ref["type"] not in REF_TYPES:
            raise invalid("invalid_bindings", "ref.type must be action_name or action_id")
        if not isinstance(ref.get("value"), str):
            raise invalid("invalid_bindings", "ref.value must be a string")
        display_name = item.get("display_name")
        if display_name is not None:
            display_name = _name(display_name, "display_name")
        refs.append({"type": ref["type"], "value": ref["value"], "display_name": display_name})
    return refs
