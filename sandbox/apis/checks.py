"""Argument checks shared by the api namespaces; each returns the clean value or raises ApiUsageError."""
from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from sandbox.api_errors import ApiUsageError

NAME_LIMIT_CHARS = 256
TEXT_LIMIT_CHARS = 1024
URL_LIMIT_CHARS = 2048
CACHE_TTL_LIMIT_MS = 24 * 60 * 60 * 1000  # Auth0's maximum cache lifetime

# Auth0's restricted claims (docs: "Create Custom Claims", general restrictions) plus `scope`,
# which only add_scope/remove_scope may change.
RESERVED_CLAIMS = frozenset({
    "acr", "act", "active", "amr", "at_hash", "ath", "attest", "aud", "auth_time",
    "authorization_details", "azp", "c_hash", "client_id", "cnf", "cty", "dest", "entitlements",
    "events", "exp", "groups", "gty", "htm", "htu", "iat", "internalService", "iss", "jcard", "jku",
    "jti", "jwe", "jwk", "kid", "may_act", "mky", "nbf", "nonce", "object_id", "org_id", "org_name",
    "orig", "origid", "permissions", "roles", "rph", "s_hash", "scope", "sid", "sip_callid",
    "sip_cseq_num", "sip_date", "sip_from_tag", "sip_via_branch", "sub", "sub_jwk", "toe", "txn",
    "typ", "uuid", "vot", "vtm", "x5t#S256",
})
# Namespaces Auth0 keeps for itself: a claim named under them would impersonate the platform.
RESERVED_CLAIM_HOSTS = ("auth0.com", "webtask.io", "webtask.run")

# Auth0 rejects these as app_metadata field names (docs: "Metadata Field Names and Data Types").
RESERVED_APP_METADATA = frozenset({
    "blocked", "clientID", "created_at", "email", "email_verified", "globalClientID",
    "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata",
    "multifactor", "updated_at", "user_id",
})

# Auth0 documents any/duo/google-authenticator/guardian/none; the factor names select one factor.
MFA_PROVIDERS = frozenset({
    "any", "duo", "google-authenticator", "guardian", "none",
    "email", "otp", "push-notification", "recovery-code", "sms",
    "webauthn-platform", "webauthn-roaming",
})
CHALLENGE_FACTORS = frozenset({
    "otp", "email", "phone", "push-notification", "webauthn-platform", "webauthn-roaming",
    "recovery-code",
})
EXCHANGE_DENY_CODES = frozenset({"invalid_scope", "invalid_request", "server_error"})


def _type_name(value: Any) -> str:
    return type(value).__name__[:64]


def text(value: Any, what: str, limit_chars: int = TEXT_LIMIT_CHARS, *, empty: bool = True) -> str:
    """A plain str (subclasses refused: their methods are guest code) of bounded length."""
    if type(value) is not str:
        raise ApiUsageError(f"{what} must be a str, not {_type_name(value)}")
    if not empty and not value:
        raise ApiUsageError(f"{what} must not be empty")
    if len(value) > limit_chars:
        raise ApiUsageError(f"{what} is {len(value)} characters, over the {limit_chars} limit")
    return value


def name(value: Any, what: str) -> str:
    return text(value, what, NAME_LIMIT_CHARS, empty=False)


def claim_name(value: Any) -> str:
    claim = name(value, "claim name")
    if claim in RESERVED_CLAIMS or claim.lower().startswith("urn:auth0"):
        raise ApiUsageError(f"claim name {claim!r} is reserved by the platform")
    host = (urlsplit(claim).hostname or "") if "://" in claim else ""
    if any(host == h or host.endswith("." + h) for h in RESERVED_CLAIM_HOSTS):
        raise ApiUsageError(f"claim namespace {host!r} is reserved by the platform")
    return claim


def metadata_name(value: Any, *, app: bool) -> str:
    field = name(value, "metadata name")
    if "." in field or "$" in field:
        raise ApiUsageError(f"metadata name {field!r} must not contain '.' or '$'")
    if app and field in RESERVED_APP_METADATA:
        raise ApiUsageError(f"app_metadata name {field!r} is reserved by the platform")
    return field


def scope(value: Any) -> str:
    token = name(value, "scope")
    # RFC 6749 scope-token: printable ASCII except space, '"' and '\'.
    if any(not (0x21 <= ord(c) <= 0x7E) or c in '"\\' for c in token):
        raise ApiUsageError(f"scope {token!r} must be a single token without spaces")
    return token


def choice(value: Any, what: str, allowed: frozenset[str]) -> str:
    if type(value) is not str or value not in allowed:
        shown = repr(value) if type(value) is str else _type_name(value)
        raise ApiUsageError(f"unknown {what} {shown[:80]}; expected one of {', '.join(sorted(allowed))}")
    return value


def flag(value: Any, what: str) -> bool:
    if type(value) is not bool:
        raise ApiUsageError(f"{what} must be True or False, not {_type_name(value)}")
    return value


def url(value: Any) -> str:
    target = text(value, "url", URL_LIMIT_CHARS, empty=False)
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in target):
        raise ApiUsageError("url must not contain whitespace, control characters or '\\'")
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiUsageError(f"url {target[:80]!r} must be an absolute http(s) URL")
    return target


def query(value: Any) -> dict[str, str | int | float | bool] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise ApiUsageError(f"query must be a dict or None, not {_type_name(value)}")
    clean: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        name(key, "query parameter name")
        if type(item) is str:
            text(item, f"query parameter {key!r}", URL_LIMIT_CHARS)
        elif type(item) not in (int, float, bool) or (type(item) is float and not math.isfinite(item)):
            raise ApiUsageError(f"query parameter {key!r} must be a str, int, float or bool")
        elif type(item) is int and abs(item) > 2**53:
            raise ApiUsageError(f"query parameter {key!r} is out of range")
        clean[key] = item
    return clean


def ttl_ms(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 < value <= CACHE_TTL_LIMIT_MS:
        raise ApiUsageError(f"ttl_ms must be an int from 1 to {CACHE_TTL_LIMIT_MS} or None")
    return value
