"""Per-tenant settings: limits the admin sets, and each trigger's failure policy.

Kept in the `settings` field of the tenant hash. Gateways cache them for CACHE_TTL_S, so a
change reaches every gateway within that time; it never needs a restart.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.errors import ApiError
from runtime.settings import Settings
from runtime.store.codec import pack, unpack
from runtime.store.txn import transact
from sandbox.triggers import TRIGGERS

CACHE_TTL_S = 2.0
FAIL_CLOSED = "fail_closed"
FAIL_OPEN = "fail_open"
POLICIES = frozenset({FAIL_CLOSED, FAIL_OPEN})
MAX_ACTION_TIMEOUT_S = 30.0
MAX_FLOW_DEADLINE_S = 60.0
MAX_INFLIGHT = 10_000
LIMIT_FIELDS = frozenset({"action_timeout_s", "flow_deadline_s", "max_inflight"})


@dataclass(frozen=True)
class TenantSettings:
    """None means the operator's default from Settings."""

    action_timeout_s: float | None = None
    flow_deadline_s: float | None = None
    max_inflight: int | None = None
    on_error: dict[str, str] = field(default_factory=dict)  # trigger id -> policy

    def effective(self, defaults: Settings) -> dict[str, Any]:
        return {
            "action_timeout_s": self.action_timeout_s or defaults.action_timeout_s,
            "flow_deadline_s": self.flow_deadline_s or defaults.flow_deadline_s,
            "max_inflight": defaults.tenant_max_inflight if self.max_inflight is None
            else self.max_inflight,
        }

    def policy(self, trigger_id: str) -> str:
        return self.on_error.get(trigger_id, FAIL_CLOSED)


def _decode(raw: Any) -> TenantSettings:
    doc = unpack(raw) if raw else {}
    known = TenantSettings.__dataclass_fields__
    return TenantSettings(**{k: v for k, v in doc.items() if k in known})


async def load(redis: Redis, tenant: str) -> TenantSettings:
    raw = await redis.hget(keys.tenant(tenant), "settings")
    return _decode(raw)


def validate_limits(body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - LIMIT_FIELDS
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown fields: {sorted(unknown)}; "
                       f"allowed: {sorted(LIMIT_FIELDS)}")
    bounds = {"action_timeout_s": MAX_ACTION_TIMEOUT_S, "flow_deadline_s": MAX_FLOW_DEADLINE_S,
              "max_inflight": MAX_INFLIGHT}
    for name, value in body.items():
        if value is None:
            continue  # back to the operator default
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or value <= 0 or value > bounds[name] or value != value:
            raise ApiError(422, "invalid_limit",
                           f"{name} must be a number in (0, {bounds[name]}] or null")
        if name == "max_inflight" and not isinstance(value, int):
            raise ApiError(422, "invalid_limit", "max_inflight must be an integer")
    return body


async def _update(redis: Redis, tenant: str, change: Any) -> TenantSettings:
    result: list[TenantSettings] = []

    async def body(pipe: Pipeline) -> None:
        if not await pipe.exists(keys.tenant(tenant)):
            raise ApiError(404, "tenant_not_found", f"no tenant {tenant!r}")
        updated = change(_decode(await pipe.hget(keys.tenant(tenant), "settings")))
        pipe.multi()
        pipe.hset(keys.tenant(tenant), "settings", pack(asdict(updated)))
        result.append(updated)

    await transact(redis, [keys.tenant(tenant)], body)
    return result[-1]


async def update_limits(redis: Redis, tenant: str, limits: dict[str, Any]) -> TenantSettings:
    return await _update(redis, tenant, lambda current: replace(current, **limits))


async def set_policy(redis: Redis, tenant: str, trigger_id: str, policy: object) -> TenantSettings:
    if policy not in POLICIES:
        raise ApiError(422, "invalid_on_error", f"on_error must be one of {sorted(POLICIES)}")
    if trigger_id not in TRIGGERS:
        raise ApiError(404, "trigger_not_found", f"unknown trigger {trigger_id!r}")
    return await _update(redis, tenant, lambda current: replace(
        current, on_error={**current.on_error, trigger_id: str(policy)}))


class SettingsCache:
    """Tenant settings per gateway process, each entry trusted for CACHE_TTL_S."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._entries: dict[str, tuple[float, TenantSettings]] = {}

    async def get(self, tenant: str) -> TenantSettings:
        now = time.monotonic()
        hit = self._entries.get(tenant)
        if hit is not None and now - hit[0] < CACHE_TTL_S:
            return hit[1]
        current = await load(self._redis, tenant)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[tenant] = (now, current)
        return current
