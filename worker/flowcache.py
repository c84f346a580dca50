"""Resolved flows cached per (tenant, trigger) and keyed on the tenant's revision counter."""
from __future__ import annotations

from collections import OrderedDict

import redis.asyncio as aioredis

from runtime.store.flows import resolve_flow
from worker.flow import FlowAction

MAX_ENTRIES = 4096


class FlowCache:
    """Bound actions with their deployed code and secrets; refetched only when `rev` moves."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._entries: OrderedDict[tuple[str, str], tuple[int, list[FlowAction]]] = OrderedDict()

    async def get(self, tenant: str, trigger_id: str, rev: int) -> list[FlowAction]:
        key = (tenant, trigger_id)
        hit = self._entries.get(key)
        if hit is not None and hit[0] >= rev:
            self._entries.move_to_end(key)
            return hit[1]
        current_rev, docs = await resolve_flow(self._redis, tenant, trigger_id)
        actions = [to_flow_action(doc) for doc in docs]
        self._entries[key] = (current_rev, actions)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return actions


def to_flow_action(doc: dict) -> FlowAction:
    return FlowAction(
        action_id=doc["action_id"],
        name=doc["name"],
        version=doc.get("version"),
        code=doc["code"],
        code_sha256=doc["code_sha256"],
        secrets=dict(doc.get("secrets") or {}),
        cache=None,  # loaded per run for code that names api.cache (worker/consumer.py)
    )
