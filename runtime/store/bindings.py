"""Trigger bindings: the ordered list of actions a trigger runs, replaced as a whole."""
from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.errors import ApiError
from runtime.store.codec import pack, text, unpack
from runtime.store.txn import transact

MAX_BINDINGS = 20
REF_TYPES = frozenset({"action_name", "action_id"})


def _public(trigger_id: str, stored: list[dict[str, Any]], docs: dict[str, dict]) -> list[dict]:
    out = []
    for binding in stored:
        doc = docs.get(binding["action_id"])
        out.append({
            "trigger_id": trigger_id,
            "display_name": binding["display_name"],
            "action": {
                "id": binding["action_id"],
                "name": doc["name"] if doc else None,
                "deployed_version": doc["deployed_version"] if doc else None,
            },
        })
    return out


async def get_bindings(redis: Redis, tenant: str, trigger_id: str) -> list[dict[str, Any]]:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(keys.bindings(tenant, trigger_id))
        pipe.hgetall(keys.actions(tenant))
        raw, raw_docs = await pipe.execute()
    stored = unpack(raw) if raw is not None else []
    docs = {text(k): unpack(v) for k, v in raw_docs.items()}
    return _public(trigger_id, stored, docs)


def _resolve(
    ref: dict[str, Any], docs: dict[str, dict], names: dict[str, str], trigger_id: str
) -> dict[str, Any]:
    if ref["type"] == "action_id":
        doc = docs.get(ref["value"])
    else:
        action_id = names.get(ref["value"])
        doc = docs.get(action_id) if action_id is not None else None
    if doc is None:
        raise ApiError(422, "binding_action_not_found",
                       f"no action with {ref['type']} {ref['value']!r}")
    if doc["deployed_version"] is None:
        raise ApiError(422, "binding_action_not_deployed",
                       f"action {doc['name']!r} has no deployed version")
    if not any(t["id"] == trigger_id for t in doc["supported_triggers"]):
        raise ApiError(422, "binding_trigger_unsupported",
                       f"action {doc['name']!r} does not support trigger {trigger_id!r}")
    return doc


async def set_bindings(
    redis: Redis, tenant: str, trigger_id: str, refs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replace `trigger_id`'s bindings. `refs`: [{type, value, display_name or None}], validated
    shape. Each must name an existing, deployed action supporting the trigger, at most once."""
    if len(refs) > MAX_BINDINGS:
        raise ApiError(422, "too_many_bindings", f"a trigger holds at most {MAX_BINDINGS} bindings")
    bindings_key = keys.bindings(tenant, trigger_id)

    async def body(pipe: Pipeline) -> list[dict[str, Any]]:
        raw_docs = await pipe.hgetall(keys.actions(tenant))
        raw_names = await pipe.hgetall(keys.action_names(tenant))
        docs = {text(k): unpack(v) for k, v in raw_docs.items()}
        names = {text(k): text(v) for k, v in raw_names.items()}
        stored: list[dict[str, Any]] = []
        for ref in refs:
            doc = _resolve(ref, docs, names, trigger_id)
            if any(b["action_id"] == doc["id"] for b in stored):
                raise ApiError(422, "duplicate_binding",
                               f"action {doc['name']!r} is bound more than once")
            stored.append({"action_id": doc["id"], "display_name": ref["display_name"] or doc["name"]})
        pipe.multi()
        pipe.set(bindings_key, pack(stored))
        pipe.incr(keys.rev(tenant))
        return _public(trigger_id, stored, docs)

    return await transact(
        redis, [keys.actions(tenant), keys.action_names(tenant), bindings_key], body
    )
