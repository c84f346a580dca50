"""GET/PUT /v1/tenants/{t}/egress: the tenant's allow-list, validated, per tenant, management only."""
from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis

from runtime.store.egress import load_allowed_hosts
from tests.runtime.apiclient import Api, Tenant


def path(tenant: Tenant) -> str:
    return f"/v1/tenants/{tenant.id}/egress"


async def test_nothing_is_allowed_by_default(api: Api, acme: Tenant) -> None:
    assert await api.call("GET", path(acme), token=acme.management_token) == (
        200, {"allowed_hosts": []})


async def test_put_stores_canonical_entries(api: Api, acme: Tenant,
                                            aredis: aioredis.Redis) -> None:
    status, body = await api.call("PUT", path(acme), token=acme.management_token, json={
        "allowed_hosts": ["API.example.com", "*.sms.example", "https://crm.example:8443",
                          "api.example.com", "[::1]:9000"]})
    stored = ["api.example.com", "*.sms.example", "https://crm.example:8443", "[::1]:9000"]
    assert (status, body) == (200, {"allowed_hosts": stored})
    assert await api.call("GET", path(acme), token=acme.management_token) == (
        200, {"allowed_hosts": stored})
    assert await load_allowed_hosts(aredis, "acme") == stored  # what workers read
    status, body = await api.call("PUT", path(acme), token=acme.management_token,
                                  json={"allowed_hosts": []})
    assert (status, body) == (200, {"allowed_hosts": []})


@pytest.mark.parametrize(("body", "code", "message"), [
    ({}, "unknown_field", '{"allowed_hosts": [...]}'),
    ({"allowed_hosts": [], "extra": 1}, "unknown_field", '{"allowed_hosts": [...]}'),
    ({"allowed_hosts": "api.example.com"}, "invalid_allowed_host", "must be a list"),
    ({"allowed_hosts": [1]}, "invalid_allowed_host", "must be a string"),
    ({"allowed_hosts": ["ftp://x.example"]}, "invalid_allowed_host", "https or http"),
    ({"allowed_hosts": ["*.com"]}, "invalid_allowed_host", "two labels"),
    ({"allowed_hosts": ["https://x.example/path"]}, "invalid_allowed_host", "no path"),
    ({"allowed_hosts": ["x.example:99999"]}, "invalid_allowed_host", "1 to 65535"),
    ({"allowed_hosts": [f"h{i}.example" for i in range(101)]}, "invalid_allowed_host",
     "at most 100"),
])
async def test_bad_bodies_get_clear_422s(api: Api, acme: Tenant, body: Any, code: str,
                                         message: str) -> None:
    status, answer = await api.call("PUT", path(acme), token=acme.management_token, json=body)
    assert status == 422
    assert answer["error"]["code"] == code
    assert message in answer["error"]["message"]
    assert await api.call("GET", path(acme), token=acme.management_token) == (
        200, {"allowed_hosts": []})  # nothing was stored


async def test_only_the_tenants_management_token(api: Api, acme: Tenant, globex: Tenant) -> None:
    body = {"allowed_hosts": ["api.example.com"]}
    status, answer = await api.call("PUT", path(acme), token=acme.execution_token, json=body)
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = await api.call("PUT", path(acme), token=globex.management_token, json=body)
    assert (status, answer["error"]["code"]) == (404, "tenant_not_found")
    status, answer = await api.call("GET", path(acme), token=globex.management_token)
    assert (status, answer["error"]["code"]) == (404, "tenant_not_found")
    status, _ = await api.call("GET", path(acme))
    assert status == 401
    assert await api.call("PUT", path(globex), token=globex.management_token, json=body) == (
        200, body)
    assert await api.call("GET", path(acme), token=acme.management_token) == (
        200, {"allowed_hosts": []})  # globex's list is globex's
