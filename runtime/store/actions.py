"""Action drafts: create, list, read, edit and delete; secret values kept apart, write-only."""
from __future__ import annotations

import uuid
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.compiling import COMPILER
from runtime.errors import ApiError
from runtime.store.codec import Reply, now_iso, pack, unpack
from runtime.store.txn import transact
from sandbox.triggers import TRIGGERS

MAX_SECRETS = 50
# Quotas: one tenant must not be able to fill the Redis every tenant shares.
MAX_ACTIONS = 500


async def build_status(code: str) -> tuple[str, list[dict[str, Any]]]:
    """("built", []) or ("failed", [{line, column, message}]): rejected code is data.

    Compiled in a separate process (runtime/compiling.py): a 256 KiB source takes over a
    second, and the gateway's event loop also serves the execution hot path meanwhile.
    """
    errors = await COMPILER.errors(code)
    return ("failed", errors) if errors else ("built", [])


def not_found(action_id: str) -> ApiError:
    return ApiError(404, "action_not_found", f"no action {action_id!r}")


async def read_action(redis: Redis | Pipeline, tenant: str, action_id: str) -> dict[str, Any]:
    raw = await redis.hget(keys.actions(tenant), action_id)
    if raw is None:
        raise not_found(action_id)
    return unpack(raw)


def _bound_triggers(raws: list[Reply | None], action_id: str) -> list[str]:
    bound = []
    for trigger_id, raw in zip(TRIGGERS, raws, strict=True):
        if raw is not None and any(b["action_id"] == action_id for b in unpack(raw)):
            bound.append(trigger_id)
    return bound


async def create_action(redis: Redis, tenant: str, spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` is validated input: name, supported_triggers, code, secrets {name: value}."""
    now = now_iso()
    status, errors = await build_status(spec["code"])
    doc = {
        "id": str(uuid.uuid4()),
        "name": spec["name"],
        "supported_triggers": spec["supported_triggers"],
        "code": spec["code"],
        "secrets": [{"name": n, "updated_at": now} for n in sorted(spec["secrets"])],
        "status": status,
        "errors": errors,
        "deployed_version": None,
        "created_at": now,
        "updated_at": now,
    }

    async def body(pipe: Pipeline) -> None:
        if await pipe.hexists(keys.action_names(tenant), doc["name"]):
            raise ApiError(409, "action_name_taken", f"an action named {doc['name']!r} exists")
        if int(await pipe.hlen(keys.action_names(tenant))) >= MAX_ACTIONS:
            raise ApiError(422, "too_many_actions",
                           f"a tenant holds at most {MAX_ACTIONS} actions; delete unused ones")
        pipe.multi()
        pipe.hset(keys.actions(tenant), doc["id"], pack(doc))
        pipe.hset(keys.action_names(tenant), doc["name"], doc["id"])
        if spec["secrets"]:
            pipe.hset(keys.secrets(tenant, doc["id"]), mapping=spec["secrets"])
        pipe.incr(keys.rev(tenant))

    await transact(redis, [keys.action_names(tenant)], body)
    return doc


async def list_actions(
    redis: Redis, tenant: str, *, trigger_id: str | None = None, name: str | None = None
) -> list[dict[str, Any]]:
    docs = [unpack(raw) for raw in (await redis.hgetall(keys.actions(tenant))).values()]
    if trigger_id is not None:
        docs = [d for d in docs if any(t["id"] == trigger_id for t in d["supported_triggers"])]
    if name is not None:
        docs = [d for d in docs if d["name"] == name]
    return sorted(docs, key=lambda d: (d["created_at"], d["id"]))


def _merge_secrets(
    doc: dict[str, Any], changes: dict[str, str | None], now: str
) -> list[dict[str, Any]]:
    meta = {s["name"]: s for s in doc["secrets"]}
    for name, value in changes.items():
        if value is None:
            meta.pop(name, None)
        else:
            meta[name] = {"name": name, "updated_at": now}
    if len(meta) > MAX_SECRETS:
        raise ApiError(422, "too_many_secrets", f"an action holds at most {MAX_SECRETS} secrets")
    return [meta[n] for n in sorted(meta)]


async def update_action(
    redis: Redis, tenant: str, action_id: str, patch: dict[str, Any]
) -> dict[str, Any]:
    """Edit the draft. `patch` may hold name, supported_triggers, code and
    secrets {name: value, or None to delete}. Dropping a trigger the action is bound to is 409.
    """
    watched = [keys.actions(tenant), keys.action_names(tenant)]
    watched += [keys.bindings(tenant, t) for t in TRIGGERS]
    if "code" in patch:
        status, errors = await build_status(patch["code"])

    async def body(pipe: Pipeline) -> dict[str, Any]:
        doc = await read_action(pipe, tenant, action_id)
        now = now_iso()
        old_name = doc["name"]
        if "name" in patch and patch["name"] != old_name:
            if await pipe.hexists(keys.action_names(tenant), patch["name"]):
                raise ApiError(409, "action_name_taken", f"an action named {patch['name']!r} exists")
            doc["name"] = patch["name"]
        if "supported_triggers" in patch:
            kept = {t["id"] for t in patch["supported_triggers"]}
            dropped = [t["id"] for t in doc["supported_triggers"] if t["id"] not in kept]
            raws = await pipe.mget([keys.bindings(tenant, t) for t in TRIGGERS])
            still_bound = [t for t in _bound_triggers(raws, action_id) if t in dropped]
            if still_bound:
                raise ApiError(409, "action_bound",
                               f"the action is bound to {', '.join(still_bound)}; unbind it first")
            doc["supported_triggers"] = patch["supported_triggers"]
        if "code" in patch:
            doc["code"], doc["status"], doc["errors"] = patch["code"], status, errors
        changes = patch.get("secrets") or {}
        if changes:
            doc["secrets"] = _merge_secrets(doc, changes, now)
        doc["updated_at"] = now
        pipe.multi()
        pipe.hset(keys.actions(tenant), action_id, pack(doc))
        if doc["name"] != old_name:
            pipe.hdel(keys.action_names(tenant), old_name)
            pipe.hset(keys.action_names(tenant), doc["name"], action_id)
        deleted = [n for n, v in changes.items() if v is None]
        upserted = {n: v for n, v in changes.items() if v is not None}
        if deleted:
            pipe.hdel(keys.secrets(tenant, action_id), *deleted)
        if upserted:
            pipe.hset(keys.secrets(tenant, action_id), mapping=upserted)
        pipe.incr(keys.rev(tenant))
        return doc

    return await transact(redis, watched, body)


async def delete_action(redis: Redis, tenant: str, action_id: str, *, force: bool) -> None:
    """Delete the action, its versions and secrets. 409 while bound, unless `force`,
    which removes it from every binding list in the same transaction."""
    binding_keys = [keys.bindings(tenant, t) for t in TRIGGERS]

    async def body(pipe: Pipeline) -> None:
        doc = await read_action(pipe, tenant, action_id)
        raws = await pipe.mget(binding_keys)
        bound = _bound_triggers(raws, action_id)
        if bound and not force:
            raise ApiError(409, "action_bound",
                           f"the action is bound to {', '.join(bound)}; "
                           "unbind it or pass ?force=true")
        pipe.multi()
        for key, raw in zip(binding_keys, raws, strict=True):
            if raw is not None and key in {keys.bindings(tenant, t) for t in bound}:
                remaining = [b for b in unpack(raw) if b["action_id"] != action_id]
                pipe.set(key, pack(remaining))
        pipe.hdel(keys.actions(tenant), action_id)
        pipe.hdel(keys.action_names(tenant), doc["name"])
        pipe.delete(
            keys.secrets(tenant, action_id),
            keys.versions(tenant, action_id),
            keys.cache(tenant, action_id),
        )
        pipe.incr(keys.rev(tenant))

    await transact(redis, [keys.actions(tenant), *binding_keys], body)
