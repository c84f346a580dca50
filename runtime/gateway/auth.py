"""Bearer-token checks: the admin token, and per-tenant management and execution tokens."""
from __future__ import annotations

import hmac
import time

from aiohttp import hdrs, web

from runtime import keys
from runtime.errors import ApiError
from runtime.gateway.http import redis_of, settings_of
from runtime.tokens import EXECUTION, MANAGEMENT, Kind, token_sha256

Need = Kind
# Which token kinds may call an endpoint that needs the key's kind.
ALLOWED = {
    MANAGEMENT: frozenset({MANAGEMENT}),
    EXECUTION: frozenset({MANAGEMENT, EXECUTION}),
}
MAX_TOKEN_CHARS = 512


def bearer_token(request: web.Request) -> str:
    """The token of `Authorization: Bearer <token>`; 401 when missing or malformed."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None:
        raise ApiError(401, "unauthorized", "missing Authorization header",
                       headers={hdrs.WWW_AUTHENTICATE: "Bearer"})
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise ApiError(401, "unauthorized", "Authorization must be 'Bearer <token>'",
                       headers={hdrs.WWW_AUTHENTICATE: "Bearer"})
    return token


def authenticate_admin(request: web.Request) -> None:
    """Accept only the configured admin token (constant-time compare); 401 otherwise."""
    token = bearer_token(request)
    expected = settings_of(request).admin_token
    if expected is None:
        raise ApiError(403, "admin_disabled", "no admin token is configured")
    if not hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
        raise ApiError(401, "invalid_token", "invalid admin token",
                       headers={hdrs.WWW_AUTHENTICATE: "Bearer"})


class TokenCache:
    """Known execution-path tokens per gateway process, trusted for TTL_S.

    Saves a Redis round trip on every execute; the price is that a deleted tenant's tokens
    keep executing on a gateway for up to TTL_S. Management calls never use it.
    """

    TTL_S = 2.0
    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, bytes | str]] = {}

    def get(self, sha: str) -> bytes | str | None:
        hit = self._entries.get(sha)
        if hit is None or time.monotonic() - hit[0] >= self.TTL_S:
            return None
        return hit[1]

    def put(self, sha: str, raw: bytes | str) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[sha] = (time.monotonic(), raw)


TOKEN_CACHE_KEY: web.AppKey[TokenCache] = web.AppKey("token_cache", TokenCache)


async def authenticate(
    request: web.Request, *, tenant: str, need: Need
) -> None:
    """Check the bearer token against `tenant`'s path.

    401 missing/malformed/unknown token; 404 tenant_not_found for another tenant's token
    (a caller must not learn which tenants exist); 403 for an execution token on a
    management endpoint. Tokens are looked up by SHA-256, so no secret is ever compared.
    """
    token = bearer_token(request)
    sha = token_sha256(token)
    cache = request.app.get(TOKEN_CACHE_KEY) if need == EXECUTION else None
    raw = cache.get(sha) if cache is not None else None
    if raw is None:
        raw = await redis_of(request).get(keys.token(sha))
        if raw is not None and cache is not None:
            cache.put(sha, raw)
    if raw is None:
        raise ApiError(401, "invalid_token", "unknown token",
                       headers={hdrs.WWW_AUTHENTICATE: "Bearer"})
    kind, _, owner = (raw.decode("utf-8") if isinstance(raw, bytes) else raw).partition(":")
    if not hmac.compare_digest(owner.encode("utf-8"), tenant.encode("utf-8")):
        raise ApiError(404, "tenant_not_found", f"no tenant {tenant!r}")
    if kind not in ALLOWED[need]:
        raise ApiError(403, "forbidden", f"this endpoint needs a {need} token")


async def tenant_of(request: web.Request, need: Need) -> str:
    """The path's `{tenant}`, once the bearer token is allowed on it."""
    tenant = request.match_info["tenant"]
    await authenticate(request, tenant=tenant, need=need)
    return tenant
