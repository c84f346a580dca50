"""Tenants and their tokens: created by the admin, tokens kept only as SHA-256 hashes."""
from __future__ import annotations

import re
import secrets
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.errors import ApiError
from runtime.store.codec import now_iso, pack, text
from runtime.store.txn import transact
from runtime.tokens import EXECUTION, MANAGEMENT, token_sha256

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
MANAGEMENT_PREFIX = "arm_"
EXECUTION_PREFIX = "are_"
TOKEN_BYTES = 32
SCAN_BATCH = 500


def validate_tenant_id(value: object) -> str:
    if not isinstance(value, str) or TENANT_ID.fullmatch(value) is None:
        raise ApiError(
            422, "invalid_tenant_id",
            "tenant id must match ^[a-z0-9][a-z0-9-]{0,62}$",
        )
    return value


def _public(doc: dict[Any, Any]) -> dict[str, Any]:
    return {"id": text(doc[b"id"]), "created_at": text(doc[b"created_at"])}


async def create_tenant(redis: Redis, tenant: str) -> dict[str, Any]:
    """Create `tenant`; returns its doc with both tokens, the only time they are shown."""
    management = MANAGEMENT_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    execution = EXECUTION_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    m_sha, e_sha = token_sha256(management), token_sha256(execution)
    created_at = now_iso()

    async def body(pipe: Pipeline) -> None:
        if await pipe.exists(keys.tenant(tenant)):
            raise ApiError(409, "tenant_exists", f"tenant {tenant!r} already exists")
        pipe.multi()
        pipe.hset(keys.tenant(tenant), mapping={
            "id": tenant,
            "created_at": created_at,
            "management_token_sha256": m_sha,
            "execution_token_sha256": e_sha,
            "settings": pack({}),
        })
        pipe.sadd(keys.TENANTS, tenant)
        pipe.set(keys.token(m_sha), f"{MANAGEMENT}:{tenant}")
        pipe.set(keys.token(e_sha), f"{EXECUTION}:{tenant}")
        pipe.set(keys.rev(tenant), 0)

    await transact(redis, [keys.tenant(tenant)], body)
    return {
        "id": tenant,
        "created_at": created_at,
        "management_token": management,
        "execution_token": execution,
    }


async def get_tenant(redis: Redis, tenant: str) -> dict[str, Any]:
    doc = await redis.hgetall(keys.tenant(tenant))
    if not doc:
        raise ApiError(404, "tenant_not_found", f"no tenant {tenant!r}")
    return _public(doc)


async def delete_tenant(redis: Redis, tenant: str) -> None:
    """Delete the tenant, its tokens and every ar:t:{tenant}:* key.

    Tokens go first in one transaction, so the tenant is unusable at once; the data
    keys are then removed by SCAN (not atomic with the first step, harmless: nothing
    can reach them any more, and a re-created tenant starts from a fresh SCAN-cleaned space).
    """
    async def body(pipe: Pipeline) -> None:
        doc = await pipe.hgetall(keys.tenant(tenant))
        if not doc:
            raise ApiError(404, "tenant_not_found", f"no tenant {tenant!r}")
        pipe.multi()
        pipe.delete(
            keys.token(text(doc[b"management_token_sha256"])),
            keys.token(text(doc[b"execution_token_sha256"])),
            keys.tenant(tenant),
        )
        pipe.srem(keys.TENANTS, tenant)

    await transact(redis, [keys.tenant(tenant)], body)
    pattern = keys.rev(tenant)[: -len("rev")] + "*"
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=pattern, count=SCAN_BATCH):
        batch.append(key)
        if len(batch) >= SCAN_BATCH:
            await redis.unlink(*batch)
            batch.clear()
    if batch:
        await redis.unlink(*batch)
