"""Continuations of redirected flows: stored by the worker, claimed once by the continue call.

The gateway makes each token (`new_token`) before the job runs and puts only its SHA-256 in
the job, so the token itself is never written to Redis: it exists in the answer to the caller
alone. When the flow pauses, the worker writes, in the MULTI of its answer, a small meta hash
(the token's hash, expiry, used flag, hashes of earlier tokens of the same execution) and the
paused flow's state (event, effects, records, position, action ids and versions; secrets are
read again when it continues). `claim` checks a token in constant time and marks the
continuation used under WATCH, so of two concurrent continue calls exactly one gets the state.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.errors import ApiError
from runtime.store.codec import Reply, pack, text, unpack
from runtime.store.txn import transact

TOKEN_BYTES = 32
TOKEN_LIMIT_CHARS = 256
TOMBSTONE_S = 24 * 3600  # the meta hash outlives the state: "expired" stays distinguishable
MAX_SPENT = 32  # earlier tokens remembered per execution (each re-pause adds one)


def new_token() -> tuple[str, str]:
    """(token, its sha256 hex): the token for the caller, the hash for Redis."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_sha256(token)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def not_found(execution_id: str) -> ApiError:
    return ApiError(404, "continuation_not_found",
                    f"no continuation of execution {execution_id[:64]!r} matches this token")


def _field(meta: dict[Reply, Reply], name: str) -> str:
    raw = meta.get(name.encode())
    return text(raw) if raw is not None else ""


def queue_pause(pipe: Pipeline, tenant: str, execution_id: str, *, token_sha256: str,
                spent: list[str], state: dict[str, Any], ttl_s: int, now_ms: int) -> None:
    """Store a paused flow (inside the worker's answer MULTI); replaces an earlier pause."""
    expires_at_ms = now_ms + ttl_s * 1000
    meta_key = keys.continuation(tenant, execution_id)
    pipe.delete(meta_key)
    pipe.hset(meta_key, mapping={
        "sha256": token_sha256, "expires_at_ms": str(expires_at_ms), "used": "0",
        "spent": " ".join(spent[-MAX_SPENT:])})
    pipe.pexpireat(meta_key, expires_at_ms + TOMBSTONE_S * 1000)
    pipe.set(keys.continuation_state(tenant, execution_id), pack(state), px=ttl_s * 1000)


def queue_finish(pipe: Pipeline, tenant: str, execution_id: str) -> None:
    """A continued flow has its answer: its state is not needed again (the meta stays, used)."""
    pipe.delete(keys.continuation_state(tenant, execution_id))


async def claim(redis: Redis, tenant: str, execution_id: str, token: str,
                now_ms: int) -> tuple[dict[str, Any], list[str]]:
    """(the paused state, hashes of every token of this execution so far) for a valid token,
    now marked used. 404 continuation_not_found (no such continuation for this tenant, or a
    token that was never this execution's), 409 continuation_used, 410 continuation_expired."""
    meta_key = keys.continuation(tenant, execution_id)
    state_key = keys.continuation_state(tenant, execution_id)
    digest = token_sha256(token)

    async def body(pipe: Pipeline) -> tuple[dict[str, Any], list[str]]:
        meta: dict[Reply, Reply] = await pipe.hgetall(meta_key)
        if not meta:
            raise not_found(execution_id)
        spent = _field(meta, "spent").split()
        if not hmac.compare_digest(_field(meta, "sha256"), digest):
            if any(hmac.compare_digest(old, digest) for old in spent):
                raise _used(execution_id)
            raise not_found(execution_id)
        if _field(meta, "used") == "1":
            raise _used(execution_id)
        if now_ms >= int(_field(meta, "expires_at_ms") or 0):
            raise _expired(execution_id)
        blob = await pipe.get(state_key)
        if blob is None:
            raise _expired(execution_id)
        pipe.multi()
        pipe.hset(meta_key, "used", "1")
        return unpack(blob), [*spent, digest]

    return await transact(redis, [meta_key, state_key], body)


async def release(redis: Redis, tenant: str, execution_id: str, token: str) -> None:
    """Undo a claim whose job was refused at admission (queue full, no worker): the caller
    may retry with the same token."""
    meta_key = keys.continuation(tenant, execution_id)
    digest = token_sha256(token)

    async def body(pipe: Pipeline) -> None:
        meta: dict[Reply, Reply] = await pipe.hgetall(meta_key)
        pipe.multi()
        if meta and hmac.compare_digest(_field(meta, "sha256"), digest):
            pipe.hset(meta_key, "used", "0")

    await transact(redis, [meta_key], body)


async def reissue(redis: Redis, tenant: str, execution_id: str, now_ms: int) -> str | None:
    """A fresh token for an unused, unexpired continuation (an idempotent replay of the
    execute call that paused: the first answer's token was lost with it). The earlier token
    stops working. None when there is nothing to continue."""
    meta_key = keys.continuation(tenant, execution_id)
    token, digest = new_token()

    async def body(pipe: Pipeline) -> str | None:
        meta: dict[Reply, Reply] = await pipe.hgetall(meta_key)
        pipe.multi()
        if (not meta or _field(meta, "used") == "1"
                or now_ms >= int(_field(meta, "expires_at_ms") or 0)):
            return None
        spent = [*_field(meta, "spent").split(), _field(meta, "sha256")][-MAX_SPENT:]
        pipe.hset(meta_key, mapping={"sha256": digest, "spent": " ".join(spent)})
        return token

    return await transact(redis, [meta_key], body)


def _used(execution_id: str) -> ApiError:
    return ApiError(409, "continuation_used",
                    f"the continuation of execution {execution_id[:64]!r} was already used")


def _expired(execution_id: str) -> ApiError:
    return ApiError(410, "continuation_expired",
                    f"the continuation of execution {execution_id[:64]!r} has expired")
