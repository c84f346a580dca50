"""Admin endpoints: tenant creation, reading, deletion, and how tokens are stored."""
from __future__ import annotations

import hashlib

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from runtime.gateway.app import create_app
from runtime.settings import Settings
from tests.runtime.apiclient import ADMIN_TOKEN, Api, Tenant, error_code


async def test_create_tenant_returns_prefixed_tokens(api: Api) -> None:
    status, body = await api.call("POST", "/v1/tenants", token=ADMIN_TOKEN, json={"id": "acme"})
    assert status == 201
    assert set(body) == {"id", "created_at", "management_token", "execution_token"}
    assert body["id"] == "acme"
    assert body["management_token"].startswith("arm_")
    assert body["execution_token"].startswith("are_")
    assert body["management_token"] != body["execution_token"]


async def test_tokens_are_stored_only_as_hashes(api: Api, aredis: aioredis.Redis) -> None:
    tenant = await api.create_tenant("acme")
    for token, kind in ((tenant.management_token, "management"),
                        (tenant.execution_token, "execution")):
        sha = hashlib.sha256(token.encode()).hexdigest()
        assert await aredis.get(f"ar:token:{sha}") == f"{kind}:acme".encode()
    dump = b""
    async for key in aredis.scan_iter("*"):
        dump += key
        kind = await aredis.type(key)
        if kind == b"string":
            dump += await aredis.get(key) or b""
        elif kind == b"hash":
            for field, value in (await aredis.hgetall(key)).items():
                dump += field + value
    assert tenant.management_token.encode() not in dump
    assert tenant.execution_token.encode() not in dump


async def test_duplicate_tenant_is_409(api: Api, acme: Tenant) -> None:
    status, body = await api.call("POST", "/v1/tenants", token=ADMIN_TOKEN, json={"id": "acme"})
    assert (status, error_code(body)) == (409, "tenant_exists")


@pytest.mark.parametrize("tenant_id", [
    "", "Acme", "-acme", "a" * 64, "a_b", "../etc", "acme:x", "a*", "ärger", 5, None, ["acme"],
])
async def test_invalid_tenant_ids_are_422(api: Api, tenant_id: object) -> None:
    status, body = await api.call("POST", "/v1/tenants", token=ADMIN_TOKEN, json={"id": tenant_id})
    assert (status, error_code(body)) == (422, "invalid_tenant_id")


@pytest.mark.parametrize("tenant_id", ["a", "0", "a" * 63, "acme-corp-2"])
async def test_valid_tenant_ids_are_accepted(api: Api, tenant_id: str) -> None:
    status, body = await api.call("POST", "/v1/tenants", token=ADMIN_TOKEN, json={"id": tenant_id})
    assert (status, body["id"]) == (201, tenant_id)


@pytest.mark.parametrize(("body", "code"), [
    ({}, "missing_field"),
    ({"id": "acme", "plan": "gold"}, "unknown_field"),
])
async def test_tenant_body_errors(api: Api, body: dict, code: str) -> None:
    status, answer = await api.call("POST", "/v1/tenants", token=ADMIN_TOKEN, json=body)
    assert (status, error_code(answer)) == (422, code)


@pytest.mark.parametrize(("headers", "code"), [
    ({}, "unauthorized"),
    ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "unauthorized"),
    ({"Authorization": "Bearer"}, "unauthorized"),
    ({"Authorization": "Bearer wrong-token"}, "invalid_token"),
    ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, "invalid_token"),
])
async def test_admin_endpoints_need_the_admin_token(api: Api, headers: dict, code: str) -> None:
    for method, path, body in (("POST", "/v1/tenants", {"id": "acme"}),
                               ("GET", "/v1/tenants/acme", None),
                               ("DELETE", "/v1/tenants/acme", None)):
        status, answer = await api.call(method, path, json=body, headers=headers)
        assert (status, error_code(answer)) == (401, code), (method, path)


async def test_tenant_token_is_not_an_admin_token(api: Api, acme: Tenant) -> None:
    status, body = await api.call("POST", "/v1/tenants", token=acme.management_token,
                                  json={"id": "other"})
    assert (status, error_code(body)) == (401, "invalid_token")


async def test_admin_endpoints_without_configured_admin_token_are_403(
    redis_url: str, aredis: aioredis.Redis
) -> None:
    app = create_app(Settings(redis_url=redis_url, admin_token=None), redis=aredis)
    async with TestClient(TestServer(app)) as client:
        status, body = await Api(client).call("POST", "/v1/tenants", token="anything",
                                              json={"id": "acme"})
        assert (status, error_code(body)) == (403, "admin_disabled")
        # Tenant tokens are still checked as usual.
        status, body = await Api(client).call("GET", "/v1/tenants/acme/actions", token="arm_x")
        assert (status, error_code(body)) == (401, "invalid_token")


async def test_get_tenant(api: Api, acme: Tenant) -> None:
    status, body = await api.call("GET", "/v1/tenants/acme", token=ADMIN_TOKEN)
    assert status == 200
    assert set(body) == {"id", "created_at"} and body["id"] == "acme"
    status, body = await api.call("GET", "/v1/tenants/nobody", token=ADMIN_TOKEN)
    assert (status, error_code(body)) == (404, "tenant_not_found")


async def test_delete_tenant_revokes_tokens_and_removes_data(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    await api.create_action(acme)
    assert [k async for k in aredis.scan_iter("ar:t:acme:*")] != []
    status, body = await api.call("DELETE", "/v1/tenants/acme", token=ADMIN_TOKEN)
    assert (status, body) == (204, None)
    assert [k async for k in aredis.scan_iter("ar:t:acme:*")] == []
    assert [k async for k in aredis.scan_iter("ar:token:*")] == []
    assert await aredis.smembers("ar:tenants") == set()
    status, body = await api.call("GET", "/v1/tenants/acme/actions", token=acme.management_token)
    assert (status, error_code(body)) == (401, "invalid_token")
    status, body = await api.call("DELETE", "/v1/tenants/acme", token=ADMIN_TOKEN)
    assert (status, error_code(body)) == (404, "tenant_not_found")
    # The id is free again, with fresh tokens.
    again = await api.create_tenant("acme")
    assert again.management_token != acme.management_token
