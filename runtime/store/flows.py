"""What a trigger runs: bound actions with their deployed code and secrets, for workers.

resolve_flow reads in at most three pipelined round trips, each a MULTI snapshot that
also re-reads the tenant's rev; if rev moved between rounds it starts over, so the
rev it returns always describes exactly the data returned (workers cache on it).
"""
from __future__ import annotations

import hashlib
from typing import Any

from redis.asyncio import Redis

from runtime import keys
from runtime.errors import ApiError
from runtime.store.codec import Reply, text, unpack

MAX_ATTEMPTS = 10


def _rev(raw: Reply | None) -> int:
    return int(raw) if raw is not None else 0


async def current_rev(redis: Redis, tenant: str) -> int:
    return _rev(await redis.get(keys.rev(tenant)))


def _decode_secrets(raw: dict[Reply, Reply]) -> dict[str, str]:
    return {text(k): text(v) for k, v in raw.items()}


async def _attempt(redis: Redis, tenant: str, trigger_id: str) -> tuple[int, list[dict]] | None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(keys.rev(tenant))
        pipe.get(keys.bindings(tenant, trigger_id))
        raw_rev, raw_bindings = await pipe.execute()
    rev = _rev(raw_rev)
    bindings = unpack(raw_bindings) if raw_bindings is not None else []
    if not bindings:
        return rev, []
    ids = [b["action_id"] for b in bindings]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(keys.rev(tenant))
        pipe.hmget(keys.actions(tenant), ids)
        for action_id in ids:
            pipe.hgetall(keys.secrets(tenant, action_id))
        raw_rev, raw_docs, *raw_secrets = await pipe.execute()
    if _rev(raw_rev) != rev:
        return None
    # Writes keep bindings pointing at live, deployed actions; skip anything else rather
    # than fail every execution of the trigger over one damaged entry.
    docs = [unpack(raw) for raw in raw_docs if raw is not None]
    docs = [doc for doc in docs if doc.get("deployed_version") is not None]
    secrets_of = dict(zip(ids, raw_secrets, strict=True))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(keys.rev(tenant))
        for doc in docs:
            pipe.hget(keys.versions(tenant, doc["id"]), str(doc["deployed_version"]))
        raw_rev, *raw_versions = await pipe.execute()
    if _rev(raw_rev) != rev:
        return None
    flow = []
    for doc, raw_version in zip(docs, raw_versions, strict=True):
        if raw_version is None:
            continue
        version = unpack(raw_version)
        secrets = secrets_of[doc["id"]]
        flow.append({
            "action_id": doc["id"],
            "name": doc["name"],
            "version": version["number"],
            "code": version["code"],
            "code_sha256": version["code_sha256"],
            "secrets": _decode_secrets(secrets),
        })
    return rev, flow


async def resolve_flow(redis: Redis, tenant: str, trigger_id: str) -> tuple[int, list[dict]]:
    """(rev, [{action_id, name, version, code, code_sha256, secrets}]) in binding order.

    Store writes keep bindings pointing only at existing, deployed actions, so every
    bound action resolves (a damaged entry is skipped). Raises ApiError 503 if writes
    keep racing the read.
    """
    for _ in range(MAX_ATTEMPTS):
        resolved = await _attempt(redis, tenant, trigger_id)
        if resolved is not None:
            return resolved
    raise ApiError(503, "flow_unstable", "the flow kept changing while being read; retry",
                   headers={"Retry-After": "1"})


async def load_pinned(redis: Redis, tenant: str, pinned: list[dict[str, Any]]) -> list[dict]:
    """The given action versions ({action_id, name, version}, in order) with their code and
    the actions' current secrets, in resolve_flow's shape: a continued flow runs the versions
    it paused with. 409 version_gone when one was deleted meanwhile."""
    if not pinned:
        return []
    async with redis.pipeline(transaction=True) as pipe:
        for item in pinned:
            pipe.hget(keys.versions(tenant, item["action_id"]), str(item["version"]))
            pipe.hgetall(keys.secrets(tenant, item["action_id"]))
        replies = await pipe.execute()
    flow = []
    for index, item in enumerate(pinned):
        raw_version, raw_secrets = replies[2 * index], replies[2 * index + 1]
        if raw_version is None:
            raise ApiError(409, "version_gone", f"action {item['name']!r} version "
                           f"{item['version']} was deleted while the flow was paused")
        version = unpack(raw_version)
        flow.append({
            "action_id": item["action_id"],
            "name": item["name"],
            "version": version["number"],
            "code": version["code"],
            "code_sha256": version["code_sha256"],
            "secrets": _decode_secrets(raw_secrets),
        })
    return flow


async def load_draft(redis: Redis, tenant: str, action_id: str) -> dict[str, Any]:
    """The draft for a test run: {action_id, name, code, code_sha256, status, errors, secrets,
    supported_triggers}. 404 action_not_found."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(keys.actions(tenant), action_id)
        pipe.hgetall(keys.secrets(tenant, action_id))
        raw_doc, raw_secrets = await pipe.execute()
    if raw_doc is None:
        raise ApiError(404, "action_not_found", f"no action {action_id!r}")
    doc = unpack(raw_doc)
    return {
        "action_id": doc["id"],
        "name": doc["name"],
        "code": doc["code"],
        "code_sha256": hashlib.sha256(doc["code"].encode("utf-8")).hexdigest(),
        "status": doc["status"],
        "errors": doc["errors"],
        "supported_triggers": doc["supported_triggers"],
        "secrets": _decode_secrets(raw_secrets),
    }
