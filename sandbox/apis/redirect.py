"""api.redirect: send the user away (the flow pauses) and sign or check the hand-off tokens.

`encode_token` and `validate_token` are Auth0's: HS256 JWTs made and checked by PyJWT (never
by hand) with the secret the action passes in, usually one of its own secrets. The platform
claims are `iss` (the tenant id, `event.tenant.id`), `sub` (`event.user.user_id`), `iat`,
`exp` and, when the event has one, `ip` (`event.request.ip`); they win over payload keys of
the same name. Nothing here touches the network or the effect list, except `send_user_to`.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt
import jwt.exceptions

from sandbox.api_errors import ApiUsageError
from sandbox.apis.namespace import Namespace
from sandbox.effects import EffectRecorder
from sandbox.limits import Limits
from sandbox.plain import serialized_size_bytes, to_plain

ALGORITHM = "HS256"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash, 256 bits.
SECRET_MIN_BYTES = 32
SECRET_MAX_CHARS = 4096
# A token travels in a redirect's query (2048 characters at most): keep the payload small.
PAYLOAD_LIMIT_BYTES = 1024
TOKEN_LIMIT_CHARS = 8192
DEFAULT_EXPIRES_IN_S = 900  # Auth0's default
MAX_EXPIRES_IN_S = 24 * 3600
PLATFORM_CLAIMS = ("iss", "sub", "iat", "exp", "ip")
# PyJWT raises instead of warning for short keys: a warning would try to read source lines,
# and a contained child may not open files.
_CODEC = jwt.PyJWT(options={"enforce_minimum_key_length": True})


class TokenValidationError(ApiUsageError):
    """Raised inside the action when a token is missing, malformed, forged, expired or not
    this tenant's and user's. A ValueError, so `except ValueError` catches it."""


def _secret(value: Any) -> str:
    if type(value) is not str:
        raise ApiUsageError(f"secret must be a str, not {type(value).__name__[:64]}")
    if len(value) > SECRET_MAX_CHARS:
        raise ApiUsageError(f"secret is over {SECRET_MAX_CHARS} characters")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ApiUsageError("secret contains a lone surrogate") from None
    if size < SECRET_MIN_BYTES:
        raise ApiUsageError(f"secret must be at least {SECRET_MIN_BYTES} bytes (256 bits) for "
                            f"HS256; got {size}")
    return value


def _text_at(event: Mapping[str, Any], section: str, field: str) -> str | None:
    part = event.get(section)
    value = part.get(field) if isinstance(part, Mapping) else None
    return value if type(value) is str and value else None


class Redirect(Namespace):
    """post-login and password-reset-post-challenge. Holds the run's plain event (never the
    guest's view of it) for the platform claims and the returned token."""

    __slots__ = ("_event",)
    _path = "redirect"
    _event: Mapping[str, Any]

    def __init__(self, recorder: EffectRecorder, limits: Limits,
                 event: Mapping[str, Any] | None = None) -> None:
        super().__init__(recorder, limits)
        object.__setattr__(self, "_event", event or {})

    def send_user_to(self, url: str, query: dict[str, Any] | None = None) -> None:
        """The action finishes, then the flow pauses until the execution is continued."""
        with self._calling("send_user_to"):
            self._record("send_user_to", url=url, query=query)

    def _identity(self) -> tuple[str, str]:
        issuer = _text_at(self._event, "tenant", "id")
        subject = _text_at(self._event, "user", "user_id")
        if issuer is None:
            raise ApiUsageError("the event has no tenant.id to use as the token's issuer")
        if subject is None:
            raise ApiUsageError("the event has no user.user_id to use as the token's subject")
        return issuer, subject

    def encode_token(self, secret: str, payload: dict[str, Any],
                     expires_in_seconds: int = DEFAULT_EXPIRES_IN_S) -> str:
        """A signed JWT for the external site; it can check it with the same secret."""
        with self._calling("encode_token"):
            key = _secret(secret)
            if type(payload) is not dict:
                raise ApiUsageError(f"payload must be a dict, not {type(payload).__name__[:64]}")
            if type(expires_in_seconds) is not int or not 0 < expires_in_seconds <= MAX_EXPIRES_IN_S:
                raise ApiUsageError(f"expires_in_seconds must be an int from 1 to {MAX_EXPIRES_IN_S}")
            claims = to_plain(payload, self._limits)
            if serialized_size_bytes(claims) > PAYLOAD_LIMIT_BYTES:
                raise ApiUsageError(f"payload is over {PAYLOAD_LIMIT_BYTES} bytes (serialized): "
                                    "a token travels in a URL")
            issuer, subject = self._identity()
            now = int(time.time())
            claims.update(iss=issuer, sub=subject, iat=now, exp=now + expires_in_seconds)
            ip = _text_at(self._event, "request", "ip")
            if ip is not None:
                claims["ip"] = ip
            else:
                claims.pop("ip", None)
            try:
                return _CODEC.encode(claims, key, algorithm=ALGORITHM)
            except jwt.PyJWTError as exc:
                raise ApiUsageError(f"the token could not be made: {exc}") from None

    def validate_token(self, secret: str, token_parameter_name: str = "session_token") -> dict[str, Any]:
        """The payload of the token sent back to the continue call (its query, else its body)
        under `token_parameter_name`, once its signature, expiry, issuer and subject check."""
        with self._calling("validate_token"):
            key = _secret(secret)
            if type(token_parameter_name) is not str or not 0 < len(token_parameter_name) <= 256:
                raise ApiUsageError("token_parameter_name must be a non-empty str of at most "
                                    "256 characters")
            token = self._returned(token_parameter_name)
            issuer, subject = self._identity()
            try:
                claims = _CODEC.decode(token, key, algorithms=[ALGORITHM], issuer=issuer,
                                       subject=subject,
                                       options={"require": ["exp", "iss", "sub"]})
            except jwt.ExpiredSignatureError:
                raise TokenValidationError("the token has expired") from None
            except jwt.InvalidSignatureError:
                raise TokenValidationError("the token's signature does not match the secret "
                                           "(tampered, or signed with another secret)") from None
            except jwt.InvalidIssuerError:
                raise TokenValidationError("the token was issued for another tenant") from None
            except jwt.exceptions.InvalidSubjectError:
                raise TokenValidationError("the token was issued for another user") from None
            except jwt.MissingRequiredClaimError as exc:
                raise TokenValidationError(f"the token has no {exc.claim!r} claim") from None
            except jwt.InvalidAlgorithmError:
                raise TokenValidationError(f"the token is not signed with {ALGORITHM}") from None
            except jwt.PyJWTError as exc:
                raise TokenValidationError(f"the token is not a valid JWT: {str(exc)[:200]}") from None
            return claims

    def _returned(self, name: str) -> str:
        request = self._event.get("request")
        request = request if isinstance(request, Mapping) else {}
        for section in ("query", "body"):
            part = request.get(section)
            if isinstance(part, Mapping) and name in part:
                value = part[name]
                if type(value) is not str or not value:
                    raise TokenValidationError(f"event.request.{section}.{name} is not a token")
                if len(value) > TOKEN_LIMIT_CHARS:
                    raise TokenValidationError(f"the token is over {TOKEN_LIMIT_CHARS} characters")
                return value
        raise TokenValidationError(f"no {name!r} parameter in event.request.query or "
                                   "event.request.body")
