"""Which effects each trigger may produce and the rule for every argument.

One table, applied twice: by the in-child api objects (so a refused call raises a good error
inside the action) and by the worker on everything a child sends back, because a child that
escaped the language layer can write any bytes on its pipe. Only the worker's pass counts.
Argument names are Auth0's, in snake_case (docs/actions.md, "Argument names"); each rule also
carries the JSON Schema that docs/openapi.yaml publishes (sandbox/effect_schema.py).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from sandbox import arg_rules as rules
from sandbox import effect_totals as totals
from sandbox.api_errors import ApiUsageError
from sandbox.apis import checks
from sandbox.arg_rules import Arg
from sandbox.errors import InvalidEffectError
from sandbox.limits import Limits
from sandbox.plain import serialized_size_bytes

OpRule = Mapping[str, Arg]  # exactly these argument names, each with its rule
CACHE_MAX_ENTRIES = totals.CACHE_MAX_ENTRIES

ENROLL_FACTORS = frozenset({
    "otp", "phone", "push", "push-notification", "recovery-code", "webauthn-platform",
    "webauthn-roaming",
})
SESSION_COOKIE_MODES = frozenset({"persistent", "non-persistent"})
SAML_SIGNATURE_ALGORITHMS = frozenset({"rsa-sha256"})  # Auth0's allowed values
SAML_DIGEST_ALGORITHMS = frozenset({"sha256"})
SAML_ENCRYPTION_ALGORITHMS = frozenset({"aes256-gcm"})
SAML_LIFETIME_LIMIT_S = 30 * 24 * 3600
PRIMARY_USER_ID_LIMIT_CHARS = 128  # Auth0's limit for set_primary_user
KIB = 1024

_CLAIM: OpRule = {"name": Arg(lambda value, _l: checks.claim_name(value), rules.NAME_SCHEMA),
                  "value": rules.PLAIN}
_SCOPE: OpRule = {"scope": Arg(lambda value, _l: checks.scope(value), rules.NAME_SCHEMA)}
_APP_METADATA: OpRule = {
    "name": Arg(lambda value, _l: checks.metadata_name(value, app=True), rules.NAME_SCHEMA),
    "value": rules.PLAIN}
_USER_METADATA: OpRule = {
    "name": Arg(lambda value, _l: checks.metadata_name(value, app=False), rules.NAME_SCHEMA),
    "value": rules.PLAIN}
_VALIDATION: OpRule = {"code": rules.name("code"), "message": rules.text("message")}
_REDIRECT: OpRule = {"url": rules.URL, "query": rules.QUERY}
_LOGIN_DENY: OpRule = {"reason": rules.text("reason")}
_PROMPT: OpRule = {"prompt_id": rules.name("prompt_id"), "fields": rules.optional_map("fields"),
                   "vars": rules.optional_map("vars")}
_CHALLENGE: Mapping[str, OpRule] = {
    "authentication.challenge_with": {
        "factor": rules.factor(checks.CHALLENGE_FACTORS),
        "additional_factors": rules.optional_factor_list(
            checks.CHALLENGE_FACTORS, "additional_factors")},
    "authentication.challenge_with_any": {
        "factors": rules.factor_list(checks.CHALLENGE_FACTORS, "factors")},
}
CACHE_KEY = Arg(  # a name (no control characters) of at most 64 bytes, as Auth0 limits keys
    lambda value, _l: checks.sized_text(checks.name(value, "key"), "key",
                                        totals.CACHE_KEY_LIMIT_BYTES),
    {"type": "string", "minLength": 1, "maxLength": totals.CACHE_KEY_LIMIT_BYTES})
_CACHE: Mapping[str, OpRule] = {
    "cache.set": {"key": CACHE_KEY,
                  "value": rules.PLAIN,
                  "ttl": rules.optional(rules.integer("ttl", 1, totals.CACHE_MAX_TTL_MS)),
                  "expires_at": rules.optional(rules.epoch_ms("expires_at"))},
    "cache.delete": {"key": CACHE_KEY},
}
CACHE_OPS = frozenset(_CACHE)


def _expiry_ops(prefix: str) -> dict[str, OpRule]:
    """session.* / refresh_token.*: revoke is per namespace; expiry and metadata are alike."""
    return {
        f"{prefix}.set_expires_at": {"absolute": rules.epoch_ms("absolute")},
        f"{prefix}.set_idle_expires_at": {"inactivity": rules.epoch_ms("inactivity")},
        f"{prefix}.set_metadata": {"key": rules.name("key"),
                                   "value": rules.optional(rules.text("value"))},
        f"{prefix}.delete_metadata": {"key": rules.name("key")},
        f"{prefix}.evict_metadata": {},
    }


def _saml_setters() -> dict[str, OpRule]:
    """api.saml_response, exactly Auth0's list (docs: post-login API object, samlResponse)."""
    flags = ("create_upn_claim", "passthrough_claims_with_no_mapping", "map_unknown_claims_as_is",
             "map_identities", "sign_response", "include_attribute_name_format",
             "typed_attributes")
    sized = {"audience": 2 * KIB, "recipient": 2 * KIB, "destination": 2 * KIB,
             "issuer": 2 * KIB, "relay_state": 2 * KIB, "name_identifier_format": KIB // 2,
             "authn_context_class_ref": KIB // 2, "signing_cert": 4 * KIB,
             "encryption_cert": 4 * KIB, "encryption_public_key": 4 * KIB, "cert": 4 * KIB,
             "key": 4 * KIB}
    ops: dict[str, OpRule] = {
        "saml_response.set_attribute": {
            "attribute": rules.sized_text("attribute", totals.SAML_ATTRIBUTE_NAME_LIMIT_BYTES,
                                          empty=False),
            "value": rules.SAML_VALUE},
        "saml_response.set_signature_algorithm": {
            "signature_algorithm": rules.choice("signature_algorithm", SAML_SIGNATURE_ALGORITHMS)},
        "saml_response.set_digest_algorithm": {
            "digest_algorithm": rules.choice("digest_algorithm", SAML_DIGEST_ALGORITHMS)},
        "saml_response.set_encryption_algorithm": {
            "encryption_algorithm": rules.choice("encryption_algorithm",
                                                 SAML_ENCRYPTION_ALGORITHMS)},
        "saml_response.set_lifetime_in_seconds": {
            "lifetime_in_seconds": rules.integer("lifetime_in_seconds", 1,
                                                 SAML_LIFETIME_LIMIT_S)},
        "saml_response.set_name_identifier_probes": {
            "name_identifier_probes": rules.text_list("name_identifier_probes", 10, KIB // 2)},
    }
    ops.update({f"saml_response.set_{arg}": {arg: rules.flag(arg)} for arg in flags})
    ops.update({f"saml_response.set_{arg}": {arg: rules.sized_text(arg, limit)}
                for arg, limit in sized.items()})
    return ops


_BY_TRIGGER: dict[str, dict[str, OpRule]] = {
    "post-login": {
        "access.deny": _LOGIN_DENY,
        "id_token.set_custom_claim": _CLAIM,
        "access_token.set_custom_claim": _CLAIM,
        "access_token.add_scope": _SCOPE,
        "access_token.remove_scope": _SCOPE,
        **_CHALLENGE,
        "authentication.enroll_with": {
            "factor": rules.factor(ENROLL_FACTORS),
            "additional_factors": rules.optional_factor_list(ENROLL_FACTORS,
                                                             "additional_factors")},
        "authentication.enroll_with_any": {
            "factors": rules.factor_list(ENROLL_FACTORS, "factors")},
        "authentication.record_method": {"provider_url": rules.URL},
        "authentication.set_primary_user": {
            "primary_user_id": rules.name("primary_user_id", PRIMARY_USER_ID_LIMIT_CHARS)},
        "multifactor.enable": {
            "provider": rules.choice("provider", checks.MFA_PROVIDERS),
            "allow_remember_browser": rules.flag("allow_remember_browser"),
            "provider_options": rules.optional_map("provider_options"),
        },
        "prompt.render": _PROMPT,
        "redirect.send_user_to": _REDIRECT,
        "refresh_token.revoke": {"reason": rules.text("reason")},
        **_expiry_ops("refresh_token"),
        **_saml_setters(),
        "session.revoke": {"reason": rules.text("reason"),
                           "preserve_refresh_tokens": rules.flag("preserve_refresh_tokens")},
        "session.set_cookie_mode": {"mode": rules.choice("mode", SESSION_COOKIE_MODES)},
        **_expiry_ops("session"),
        "user.set_app_metadata": _APP_METADATA,
        "user.set_user_metadata": _USER_METADATA,
        "validation.error": _VALIDATION,
        "transaction.set_metadata": {
            "key": rules.name("key", totals.TRANSACTION_KEY_LIMIT_CHARS),
            "value": rules.scalar_or_none("value", totals.TRANSACTION_VALUE_LIMIT_BYTES)},
    },
    "credentials-exchange": {
        "access.deny": {"code": rules.choice("code", checks.EXCHANGE_DENY_CODES),
                        "reason": rules.text("reason")},
        "access_token.set_custom_claim": _CLAIM,
    },
    "pre-user-registration": {
        "access.deny": {"reason": rules.text("reason"),
                        "user_message": rules.optional_text("user_message")},
        "user.set_app_metadata": _APP_METADATA,
        "user.set_user_metadata": _USER_METADATA,
        "validation.error": _VALIDATION,
    },
    "post-user-registration": {},
    "post-change-password": {},
    "send-phone-message": {},
    "password-reset-post-challenge": {
        "access.deny": _LOGIN_DENY,
        **_CHALLENGE,
        "prompt.render": _PROMPT,
        "redirect.send_user_to": _REDIRECT,
        "transaction.set_result_url": _REDIRECT,
    },
}
# trigger id -> op -> argument rules; api.cache exists in every trigger.
TRIGGER_OPS: Mapping[str, Mapping[str, OpRule]] = MappingProxyType({
    trigger: MappingProxyType({**ops, **_CACHE}) for trigger, ops in _BY_TRIGGER.items()
})


def clean_args(trigger_id: str, op: str, args: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The effect's arguments after their rules (plain copies), or ApiUsageError saying why not."""
    op_rules = TRIGGER_OPS.get(trigger_id, {}).get(op)
    if op_rules is None:
        raise ApiUsageError(f"{op[:80]!r} is not an effect of the {trigger_id[:40]!r} trigger")
    if set(args) != set(op_rules):
        takes = ", ".join(op_rules) if op_rules else "no"
        raise ApiUsageError(f"{op} takes exactly the arguments {takes}")
    return {name: rule(args[name], limits) for name, rule in op_rules.items()}


def check_effects(trigger_id: str, effects: Any, limits: Limits,
                  cache: Mapping[str, Any] | Collection[str] | None) -> list[dict[str, Any]]:
    """Re-validate a child's whole effect list; the clean list or InvalidEffectError.

    `cache` is the action's cache before the run (key -> {"value", "expires_at"}, or just its
    keys), or None when the worker did not load it: cache effects are then refused, since
    the cache's limits cannot be checked without its entries.
    """
    if type(effects) is not list:
        raise InvalidEffectError("effects must be a list")
    if len(effects) > limits.max_effects:
        raise InvalidEffectError(f"{len(effects)} effects, over the limit of {limits.max_effects}")
    clean: list[dict[str, Any]] = []
    total_bytes = 0
    running = totals.Totals(cache if cache is not None else ())
    for index, effect in enumerate(effects):
        if type(effect) is not dict or set(effect) != {"op", "args"} or type(
                effect["op"]) is not str or type(effect["args"]) is not dict:
            raise InvalidEffectError("not a map of exactly a str 'op' and a map 'args'", index)
        op = effect["op"]
        if op in CACHE_OPS and cache is None:
            raise InvalidEffectError("the action's cache was not loaded for this run "
                                     "(name api.cache directly in the source)", index, op)
        try:
            checked: dict[str, Any] = {
                "op": op, "args": clean_args(trigger_id, op, effect["args"], limits)}
            total_bytes += serialized_size_bytes(checked)
            running.admit(op, checked["args"])
        except ApiUsageError as exc:
            raise InvalidEffectError(exc.problem, index, op) from None
        if total_bytes > limits.effects_limit_bytes:
            raise InvalidEffectError(
                f"effects total over {limits.effects_limit_bytes} bytes", index, op)
        clean.append(checked)
    return clean
