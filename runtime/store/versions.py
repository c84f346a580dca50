"""Immutable action versions: deploy the draft, list and read versions, roll back.

A rollback (as Auth0's) creates a new version, numbered after the newest, whose code
is the chosen version's; the draft is left as it is. Version numbers start at 1 and
are never reused while the action exists.
"""
from __future__ import annotations

import hashlib
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.errors import ApiError
from runtime.store.actions import read_action
from runtime.store.codec import now_iso, pack, unpack
from runtime.store.txn import transact

MAX_VERSIONS = 500  # a quota: each may hold up to 256 KiB of code in the shared Redis


def public(version: dict[str, Any], deployed_version: int | None, *, code: bool = True) -> dict:
    """The API shape: `deployed` says whether this is the version that runs now."""
    out = {k: v for k, v in version.items() if code or k != "code"}
    out["deployed"] = version["number"] == deployed_version
    return out


def not_found(action_id: str, number: int) -> ApiError:
    return ApiError(404, "version_not_found", f"action {action_id!r} has no version {number}")


async def _new_version(
    redis: Redis, tenant: str, action_id: str, source: int | None
) -> dict[str, Any]:
    """Deploy the draft (`source` None) or a copy of version `source` as the next number."""
    versions_key = keys.versions(tenant, action_id)

    async def body(pipe: Pipeline) -> dict[str, Any]:
        doc = await read_action(pipe, tenant, action_id)
        if source is None:
            if doc["status"] != "built":
                raise ApiError(422, "action_build_failed", "the draft does not compile",
                               details={"errors": doc["errors"]})
            code, triggers = doc["code"], doc["supported_triggers"]
        else:
            raw = await pipe.hget(versions_key, str(source))
            if raw is None:
                raise not_found(action_id, source)
            old = unpack(raw)
            code, triggers = old["code"], old["supported_triggers"]
        number = int(await pipe.hlen(versions_key)) + 1
        if number > MAX_VERSIONS:
            raise ApiError(422, "too_many_versions",
                           f"an action keeps at most {MAX_VERSIONS} versions; create a new "
                           "action (or delete this one) to deploy again")
        version = {
            "id": str(uuid.uuid4()),
            "action_id": action_id,
            "number": number,
            "code": code,
            "code_sha256": hashlib.sha256(code.encode("utf-8")).hexdigest(),
            "supported_triggers": triggers,
            "rollback_of": source,
            "created_at": now_iso(),
        }
        doc["deployed_version"] = number
        doc["updated_at"] = version["created_at"]
        pipe.multi()
        pipe.hset(versions_key, str(number), pack(version))
        pipe.hset(keys.actions(tenant), action_id, pack(doc))
        pipe.incr(keys.rev(tenant))
        return version

    version = await transact(redis, [keys.actions(tenant), versions_key], body)
    return public(version, version["number"])


async def deploy(redis: Redis, tenant: str, action_id: str) -> dict[str, Any]:
    """Snapshot the draft as a new deployed version; 422 action_build_failed if it does not build."""
    return await _new_version(redis, tenant, action_id, None)


async def rollback(redis: Redis, tenant: str, action_id: str, number: int) -> dict[str, Any]:
    """Deploy version `number`'s code again, as a new version."""
    return await _new_version(redis, tenant, action_id, number)


async def list_versions(redis: Redis, tenant: str, action_id: str) -> list[dict[str, Any]]:
    """Newest first, without code (GET one version for it)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(keys.actions(tenant), action_id)
        pipe.hvals(keys.versions(tenant, action_id))
        raw_doc, raws = await pipe.execute()
    if raw_doc is None:
        raise ApiError(404, "action_not_found", f"no action {action_id!r}")
    deployed = unpack(raw_doc)["deployed_version"]
    versions = sorted((unpack(r) for r in raws), key=lambda v: v["number"], reverse=True)
    return [public(v, deployed, code=False) for v in versions]


async def get_version(redis: Redis, tenant: str, action_id: str, number: int) -> dict[str, Any]:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hget(keys.actions(tenant), action_id)
        pipe.hget(keys.versions(tenant, action_id), str(number))
        raw_doc, raw = await pipe.execute()
    if raw_doc is None:
        raise ApiError(404, "action_not_found", f"no action {action_id!r}")
    if raw is None:
        raise not_found(action_id, number)
    return public(unpack(raw), unpack(raw_doc)["deployed_version"])
