"""A tenant's egress allow-list: the hosts its actions may fetch() from, kept with the tenant.

Stored in the `egress` field of the tenant hash as msgpack {"allowed_hosts": [canonical
entries]}; absent means nothing is allowed. Workers read it when an execution makes its first
request (worker/egress.py), so a change applies to the next execution without a restart.
"""
from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from runtime import keys
from runtime.egress_hosts import AllowListError, parse_allow_list
from runtime.errors import ApiError
from runtime.store.codec import pack, unpack
from runtime.store.txn import transact

FIELD = "egress"


def _decode(raw: Any) -> list[str]:
    doc = unpack(raw) if raw else {}
    hosts = doc.get("allowed_hosts") if isinstance(doc, dict) else None
    return [h for h in hosts if isinstance(h, str)] if isinstance(hosts, list) else []


async def load_allowed_hosts(redis: Redis, tenant: str) -> list[str]:
    """The tenant's entries, canonical; [] when it has none (or does not exist)."""
    return _decode(await redis.hget(keys.tenant(tenant), FIELD))


def validate(body: Any) -> list[str]:
    """The canonical entries of a PUT body `{"allowed_hosts": [...]}`; ApiError 422 if not."""
    if type(body) is not dict or set(body) != {"allowed_hosts"}:
        raise ApiError(422, "unknown_field", 'the body must be exactly {"allowed_hosts": [...]}')
    try:
        return [entry.canonical() for entry in parse_allow_list(body["allowed_hosts"])]
    except AllowListError as exc:
        raise ApiError(422, "invalid_allowed_host", f"allowed_hosts: {exc}; an entry is "
                       "[https:// or http://]host[:port], host a name, *.name (one label) "
                       "or an IP address") from None


async def save_allowed_hosts(redis: Redis, tenant: str, hosts: list[str]) -> list[str]:
    async def body(pipe: Pipeline) -> None:
        if not await pipe.exists(keys.tenant(tenant)):
            raise ApiError(404, "tenant_not_found", f"no tenant {tenant!r}")
        pipe.multi()
        pipe.hset(keys.tenant(tenant), FIELD, pack({"allowed_hosts": hosts}))

    await transact(redis, [keys.tenant(tenant)], body)
    return hosts
