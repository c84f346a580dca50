"""Argument checks shared by the api namespaces; each returns the clean value or raises ApiUsageError."""
from __future__ import annotations

import codecs
import ipaddress
import math
import re
import stringprep
import unicodedata
from typing import Any
from urllib.parse import unquote_to_bytes

from sandbox.api_errors import ApiUsageError

NAME_LIMIT_CHARS = 256
TEXT_LIMIT_CHARS = 1024
URL_LIMIT_CHARS = 2048
CACHE_TTL_LIMIT_MS = 24 * 60 * 60 * 1000  # Auth0's maximum cache lifetime
EPOCH_MS_LIMIT = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: JavaScript-safe and a real date

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
_RESERVED_CLAIMS_FOLDED = frozenset(claim.casefold() for claim in RESERVED_CLAIMS)
# Namespaces Auth0 keeps for itself: a claim named under them would impersonate the platform.
RESERVED_CLAIM_HOSTS = ("auth0.com", "webtask.io", "webtask.run")

# Auth0 rejects these as app_metadata field names (docs: "Metadata Field Names and Data Types").
RESERVED_APP_METADATA = frozenset({
    "blocked", "clientID", "created_at", "email", "email_verified", "globalClientID",
    "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata",
    "multifactor", "updated_at", "user_id",
})
_RESERVED_APP_METADATA_FOLDED = frozenset(field.casefold() for field in RESERVED_APP_METADATA)

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

# WHATWG URL's special schemes: after "scheme:" their parser skips any run of '/' and '\'.
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# WHATWG's forbidden domain code points (C0 controls and DEL are refused separately).
_FORBIDDEN_HOST_CHARS = frozenset(" #%/:<>?@[\\]^|")
# Looked up now, while imports still work: a contained child cannot load a codec later.
_PUNYCODE = codecs.lookup("punycode")


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


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F  # C0, DEL, C1


def name(value: Any, what: str) -> str:
    """A non-empty bounded str without control characters (they hide in logs and headers)."""
    field = text(value, what, NAME_LIMIT_CHARS, empty=False)
    if any(_is_control(c) for c in field):
        raise ApiUsageError(f"{what} {field[:80]!r} must not contain control characters")
    return field


def _fold(value: str) -> str:
    """Case- and compatibility-folded, the way IDNA compares: full-width 'SUB' and 'Sub' are 'sub'."""
    value = "".join(c for c in value if not stringprep.in_table_b1(c))  # zero-width and the like
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


class _BadHost(Exception):
    """Raised when a host is not one a WHATWG URL parser would accept; the message says why."""


def _normal_host(raw: str) -> str:
    """`raw` as a WHATWG parser reads it: percent-decoded, IDNA-folded, without trailing dots.

    An approximation of UTS #46 (nameprep's ignored code points, NFKC, case folding, ideographic
    full stops, punycode labels decoded); enough to compare against ASCII names, not to resolve.
    """
    if raw.startswith("["):
        inner = raw[1:-1] if raw.endswith("]") else ""
        try:
            if "%" in inner:  # a zone id: ipaddress takes one, WHATWG does not
                raise ValueError(inner)
            return f"[{ipaddress.IPv6Address(inner).compressed}]"
        except ValueError:
            raise _BadHost(f"host {raw[:80]!r} is not a valid [IPv6] address") from None
    try:
        decoded = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise _BadHost(f"host {raw[:80]!r} is not percent-encoded UTF-8") from None
    labels = _fold(decoded).replace("\u3002", ".").split(".")
    for index, label in enumerate(labels):
        if label.startswith("xn--"):
            try:
                labels[index] = _fold(_PUNYCODE.decode(label[4:].encode("ascii"))[0])
            except (UnicodeError, ValueError):
                raise _BadHost(f"host {raw[:80]!r} has an invalid punycode label") from None
    host = ".".join(labels).rstrip(".")
    if any(c in _FORBIDDEN_HOST_CHARS or _is_control(c) or c.isspace() for c in host):
        raise _BadHost(f"host {raw[:80]!r} contains a character no host may have")
    return host


def _authority_host(rest: str) -> str:
    """The raw host of the authority `rest` starts with (leading '/' skipped, userinfo, port cut)."""
    rest = rest.lstrip("/")
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    authority = rest[:min(ends, default=len(rest))].rpartition("@")[2]
    if authority.startswith("["):
        close = authority.find("]")
        return authority if close < 0 else authority[:close + 1]
    return authority.partition(":")[0]


def _claim_hosts(claim: str) -> tuple[list[str], str | None]:
    """The hosts a reader could take `claim`'s namespace to be, and why its URL host is invalid.

    Two readings, both checked: the WHATWG one (a special scheme skips any slashes, other
    schemes need '//'), and the schemeless one ('auth0.com/claim', '//auth0.com/claim').
    """
    spelled = claim.replace("\\", "/")
    hosts: list[str] = []
    problem = None
    scheme = _SCHEME.match(spelled)
    if scheme:
        rest = spelled[scheme.end():]
        if scheme[1].lower() in _SPECIAL_SCHEMES or rest.startswith("//"):
            try:
                hosts.append(_normal_host(_authority_host(rest)))
            except _BadHost as exc:
                problem = f"claim name {claim[:80]!r}: {exc}"
    try:
        hosts.append(_normal_host(_authority_host(spelled)))
    except _BadHost:
        pass  # a plain name such as 'x5t#S256' need not be a host at all
    return hosts, problem


def claim_name(value: Any) -> str:
    """A claim name that cannot pass for one of the platform's, in any spelling.

    Reserved namespaces are compared on the host as the token's consumers would parse it
    (case, trailing dots, percent-escapes, full-width and other compatibility forms, '\\' read
    as '/', userinfo and ports cut); reserved claims ignore case and compatibility forms.
    """
    claim = name(value, "claim name")
    hosts, problem = _claim_hosts(claim)
    for host in hosts:
        if any(host == h or host.endswith("." + h) for h in RESERVED_CLAIM_HOSTS):
            raise ApiUsageError(f"claim namespace {host[:80]!r} is reserved by the platform")
    if any(c.isspace() or c == "\\" for c in claim):
        raise ApiUsageError(f"claim name {claim[:80]!r} must not contain whitespace or '\\'")
    if problem:
        raise ApiUsageError(problem)
    folded = _fold(claim)
    if folded in _RESERVED_CLAIMS_FOLDED or folded.startswith("urn:auth0"):
        raise ApiUsageError(f"claim name {claim[:80]!r} is reserved by the platform")
    return claim


def metadata_name(value: Any, *, app: bool) -> str:
    field = name(value, "metadata name")
    if "." in field or "$" in field:
        raise ApiUsageError(f"metadata name {field[:80]!r} must not contain '.' or '$'")
    if app and field.casefold() in _RESERVED_APP_METADATA_FOLDED:
        raise ApiUsageError(f"app_metadata name {field[:80]!r} is reserved by the platform")
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
    """An absolute http(s) URL that every parser reads alike: no userinfo, a valid host and port."""
    target = text(value, "url", URL_LIMIT_CHARS, empty=False)
    shown = repr(target[:80])
    if any(c.isspace() or _is_control(c) or c == "\\" for c in target):
        raise ApiUsageError("url must not contain whitespace, control characters or '\\'")
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ApiUsageError(f"url {shown} must be an absolute http(s) URL")
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    authority = rest[:min(ends, default=len(rest))]
    if "@" in authority:
        raise ApiUsageError(f"url {shown} must not contain a user name or password")
    if authority.startswith("["):
        close = authority.find("]")
        raw_host, port = (authority, "") if close < 0 else (
            authority[:close + 1], authority[close + 1:])
        if port and not port.startswith(":"):
            raise ApiUsageError(f"url {shown} has text after its [IPv6] host")
        port = port[1:]
    else:
        raw_host, _, port = authority.partition(":")
    if not raw_host:
        raise ApiUsageError(f"url {shown} must be an absolute http(s) URL")
    if port and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ApiUsageError(f"url port {port[:20]!r} must be a number from 1 to 65535")
    try:
        host = _normal_host(raw_host)
    except _BadHost as exc:
        raise ApiUsageError(f"url {exc}") from None
    last_label = host.rpartition(".")[2]
    if last_label.isascii() and last_label.isdigit():  # WHATWG then reads the host as IPv4
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ApiUsageError(f"url host {raw_host[:80]!r} is not a valid IPv4 address") from None
    if not host:
        raise ApiUsageError(f"url {shown} must be an absolute http(s) URL")
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


def sized_text(value: Any, what: str, limit_bytes: int, *, empty: bool = True) -> str:
    """A plain str of at most `limit_bytes` UTF-8 bytes (Auth0 states these limits in bytes)."""
    if type(value) is not str:
        raise ApiUsageError(f"{what} must be a str, not {_type_name(value)}")
    if not empty and not value:
        raise ApiUsageError(f"{what} must not be empty")
    field = value
    if len(field) > limit_bytes:  # a character is at least a byte: no need to encode it
        raise ApiUsageError(f"{what} is {len(field)} characters, over the {limit_bytes}-byte limit")
    try:
        size = len(field.encode("utf-8"))
    except UnicodeEncodeError:
        raise ApiUsageError(f"{what} contains a lone surrogate, which is not valid UTF-8") from None
    if size > limit_bytes:
        raise ApiUsageError(f"{what} is {size} bytes, over the {limit_bytes}-byte limit")
    return field


def integer(value: Any, what: str, low: int, high: int) -> int:
    """An exact int (not bool, not float) within [low, high]."""
    if type(value) is not int or not low <= value <= high:
        if type(value) is not int:
            shown = _type_name(value)
        else:  # str() of a huge int is slow, and refused past 4300 digits
            shown = str(value) if value.bit_length() <= 64 else f"an int of {value.bit_length()} bits"
        raise ApiUsageError(f"{what} must be an int from {low} to {high}, not {shown}")
    return value


def ttl(value: Any) -> int | None:
    """api.cache.set's `ttl`: milliseconds, as in Auth0."""
    return None if value is None else integer(value, "ttl", 1, CACHE_TTL_LIMIT_MS)


def epoch_ms(value: Any, what: str) -> int:
    """An absolute time in milliseconds since the Unix epoch (Auth0's `expires_at` style)."""
    return integer(value, what, 1, EPOCH_MS_LIMIT)
