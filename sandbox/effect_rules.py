"""Which effects each trigger may produce and the rule for every argument.

One table, applied twice: by the in-child api objects (so a refused call raises a good error
inside the action) and by the worker on everything a child sends back, because a child that
escaped the language layer can write any bytes on its pipe. Only the worker's pass counts.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Any

from sandbox.api_errors import ApiUsageError
from sandbox.apis import checks
from sandbox.errors import InvalidEffectError
from sandbox.limits import Limits
from sandbox.plain import serialized_size_bytes, to_plain

ArgRule = Callable[[Any, Limits], Any]  # returns the clean value or raises ApiUsageError
OpRule = Mapping[str, ArgRule]  # exactly these argument names, each with its rule

CACHE_MAX_ENTRIES = 64  # per action: with 64 KiB values, a few MiB of the Redis all tenants share


def _text(what: str) -> ArgRule:
    return lambda value, _limits: checks.text(value, what)


def _optional_text(what: str) -> ArgRule:
    return lambda value, _limits: None if value is None else checks.text(value, what)


def _name(what: str) -> ArgRule:
    return lambda value, _limits: checks.name(value, what)


def _choice(what: str, allowed: frozenset[str]) -> ArgRule:
    return lambda value, _limits: checks.choice(value, what, allowed)


def _plain(value: Any, limits: Limits) -> Any:
    return to_plain(value, limits)


def _factor(value: Any, limits: Limits) -> dict[str, Any]:
    if type(value) is not dict:
        raise ApiUsageError("factor must be a dict like {'type': 'otp'}")
    extra = set(value) - {"type", "options"}
    if extra:
        raise ApiUsageError(f"factor has unknown keys: {', '.join(sorted(map(str, extra)))[:120]}")
    factor: dict[str, Any] = {"type": checks.choice(value.get("type"), "factor type",
                                                    checks.CHALLENGE_FACTORS)}
    if "options" in value:
        if type(value["options"]) is not dict:
            raise ApiUsageError("factor options must be a dict")
        factor["options"] = value["options"]
    return to_plain(factor, limits)


_CLAIM: OpRule = {"name": lambda value, _limits: checks.claim_name(value), "value": _plain}
_SCOPE: OpRule = {"scope": lambda value, _limits: checks.scope(value)}
_APP_METADATA: OpRule = {
    "name": lambda value, _limits: checks.metadata_name(value, app=True), "value": _plain}
_USER_METADATA: OpRule = {
    "name": lambda value, _limits: checks.metadata_name(value, app=False), "value": _plain}
_VALIDATION: OpRule = {"code": _name("code"), "message": _text("message")}
_REDIRECT: OpRule = {
    "url": lambda value, _limits: checks.url(value),
    "query": lambda value, limits: to_plain(checks.query(value), limits),
}
_LOGIN_DENY: OpRule = {"reason": _text("reason")}
_CACHE: Mapping[str, OpRule] = {
    "cache.set": {"key": _name("key"), "value": _plain,
                  "ttl_ms": lambda value, _limits: checks.ttl_ms(value)},
    "cache.delete": {"key": _name("key")},
}

_BY_TRIGGER: dict[str, dict[str, OpRule]] = {
    "post-login": {
        "access.deny": _LOGIN_DENY,
        "id_token.set_custom_claim": _CLAIM,
        "access_token.set_custom_claim": _CLAIM,
        "access_token.add_scope": _SCOPE,
        "access_token.remove_scope": _SCOPE,
        "multifactor.enable": {
            "provider": _choice("provider", checks.MFA_PROVIDERS),
            "allow_remember_browser": lambda value, _limits: checks.flag(
                value, "allow_remember_browser"),
        },
        "redirect.send_user_to": _REDIRECT,
        "user.set_app_metadata": _APP_METADATA,
        "user.set_user_metadata": _USER_METADATA,
        "validation.error": _VALIDATION,
        "transaction.set_metadata": {"name": _name("metadata name"), "value": _plain},
    },
    "credentials-exchange": {
        "access.deny": {"code": _choice("code", checks.EXCHANGE_DENY_CODES),
                        "reason": _text("reason")},
        "access_token.set_custom_claim": _CLAIM,
    },
    "pre-user-registration": {
        "access.deny": {"reason": _text("reason"), "user_message": _optional_text("user_message")},
        "user.set_app_metadata": _APP_METADATA,
        "user.set_user_metadata": _USER_METADATA,
        "validation.error": _VALIDATION,
    },
    "post-user-registration": {},
    "post-change-password": {},
    "send-phone-message": {},
    "password-reset-post-challenge": {
        "access.deny": _LOGIN_DENY,
        "redirect.send_user_to": _REDIRECT,
        "authentication.challenge_with": {"factor": _factor},
    },
}
# trigger id -> op -> argument rules; api.cache exists in every trigger.
TRIGGER_OPS: Mapping[str, Mapping[str, OpRule]] = MappingProxyType({
    trigger: MappingProxyType({**ops, **_CACHE}) for trigger, ops in _BY_TRIGGER.items()
})


def clean_args(trigger_id: str, op: str, args: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The effect's arguments after their rules (plain copies), or ApiUsageError saying why not."""
    rules = TRIGGER_OPS.get(trigger_id, {}).get(op)
    if rules is None:
        raise ApiUsageError(f"{op[:80]!r} is not an effect of the {trigger_id[:40]!r} trigger")
    if set(args) != set(rules):
        raise ApiUsageError(f"{op} takes exactly the arguments {', '.join(rules)}")
    return {name: rule(args[name], limits) for name, rule in rules.items()}


def check_effects(trigger_id: str, effects: Any, limits: Limits,
                  cache_keys: Collection[str] | None) -> list[dict[str, Any]]:
    """Re-validate a child's whole effect list; the clean list or InvalidEffectError.

    `cache_keys` are the action's cache entries before the run, or None when the worker did
    not load them: cache effects are then refused, since their entry count cannot be checked.
    """
    if type(effects) is not list:
        raise InvalidEffectError("effects must be a list")
    if len(effects) > limits.max_effects:
        raise InvalidEffectError(f"{len(effects)} effects, over the limit of {limits.max_effects}")
    clean: list[dict[str, Any]] = []
    total_bytes = 0
    entries = None if cache_keys is None else set(cache_keys)
    for index, effect in enumerate(effects):
        if type(effect) is not dict or set(effect) != {"op", "args"} or type(
                effect["op"]) is not str or type(effect["args"]) is not dict:
            raise InvalidEffectError("not a map of exactly a str 'op' and a map 'args'", index)
        op = effect["op"]
        try:
            checked: dict[str, Any] = {
                "op": op, "args": clean_args(trigger_id, op, effect["args"], limits)}
            total_bytes += serialized_size_bytes(checked)
        except ApiUsageError as exc:
            raise InvalidEffectError(exc.problem, index, op) from None
        if op.startswith("cache."):
            if entries is None:
                raise InvalidEffectError("the action's cache was not loaded for this run "
                                         "(name api.cache directly in the source)", index, op)
            key = checked["args"]["key"]
            if op == "cache.delete":
                entries.discard(key)
            elif key not in entries and len(entries) >= CACHE_MAX_ENTRIES:
                raise InvalidEffectError(f"the cache holds at most {CACHE_MAX_ENTRIES} entries",
                                         index, op)
            else:
                entries.add(key)
        if total_bytes > limits.effects_limit_bytes:
            raise InvalidEffectError(
                f"effects total over {limits.effects_limit_bytes} bytes", index, op)
        clean.append(checked)
    return clean
