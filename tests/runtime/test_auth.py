"""Tenant tokens: who may call what, and what a stranger learns (nothing)."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from runtime.gateway.auth import authenticate, tenant_of
from runtime.gateway.http import REDIS_KEY, SETTINGS_KEY, error_middleware
from runtime.settings import Settings
from tests.runtime.apiclient import Api, Tenant, error_code

MANAGEMENT_CALLS = [
    ("GET", "/v1/tenants/acme/actions", None),
    ("POST", "/v1/tenants/acme/actions", {"name": "x"}),
    ("GET", "/v1/tenants/acme/actions/some-id", None),
    ("PATCH", "/v1/tenants/acme/actions/some-id", {"name": "x"}),
    ("DELETE", "/v1/tenants/acme/actions/some-id", None),
    ("POST", "/v1/tenants/acme/actions/some-id/deploy", None),
    ("GET", "/v1/tenants/acme/actions/some-id/versions", None),
    ("GET", "/v1/tenants/acme/actions/some-id/versions/1", None),
    ("POST", "/v1/tenants/acme/actions/some-id/versions/1/deploy", None),
    ("GET", "/v1/tenants/acme/triggers", None),
    ("GET", "/v1/tenants/acme/triggers/post-login/bindings", None),
    ("PATCH", "/v1/tenants/acme/triggers/post-login/bindings", {"bindings": []}),
]


@pytest.mark.parametrize(("method", "path", "body"), MANAGEMENT_CALLS)
async def test_management_calls_check_the_token(
    api: Api, acme: Tenant, globex: Tenant, method: str, path: str, body: object
) -> None:
    cases = [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer"}, 401, "unauthorized"),
        ({"Authorization": "Token " + acme.management_token}, 401, "unauthorized"),
        ({"Authorization": "Bearer " + "x" * 600}, 401, "unauthorized"),
        ({"Authorization": "Bearer arm_not-a-real-token"}, 401, "invalid_token"),
        ({"Authorization": "Bearer " + globex.management_token}, 404, "tenant_not_found"),
        ({"Authorization": "Bearer " + globex.execution_token}, 404, "tenant_not_found"),
        ({"Authorization": "Bearer " + acme.execution_token}, 403, "forbidden"),
    ]
    for headers, status, code in cases:
        got, answer = await api.call(method, path, json=body, headers=headers)
        assert (got, error_code(answer)) == (status, code), headers


async def test_401_names_the_bearer_scheme(api: Api) -> None:
    response = await api.client.get("/v1/tenants/acme/actions")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_bearer_scheme_is_case_insensitive(api: Api, acme: Tenant) -> None:
    status, body = await api.call("GET", "/v1/tenants/acme/actions",
                                  headers={"Authorization": "bearer " + acme.management_token})
    assert (status, body) == (200, {"actions": [], "total": 0})


async def test_token_of_another_tenant_cannot_see_a_missing_tenant_either(
    api: Api, acme: Tenant
) -> None:
    # Existing and missing tenants answer alike, so tenant ids cannot be probed.
    for path in ("/v1/tenants/globex/actions", "/v1/tenants/no-such-tenant/actions"):
        status, body = await api.call("GET", path, token=acme.management_token)
        assert (status, error_code(body)) == (404, "tenant_not_found")


@pytest.fixture
async def probe(settings: Settings, aredis: aioredis.Redis) -> AsyncIterator[Api]:
    """A bare app whose routes call authenticate() for each `need`, as the execution side does."""
    app = web.Application(middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    app[REDIS_KEY] = aredis

    async def execution(request: web.Request) -> web.Response:
        await authenticate(request, tenant=request.match_info["tenant"], need="execution")
        return web.json_response({"ok": True})

    async def management(request: web.Request) -> web.Response:
        return web.json_response({"tenant": await tenant_of(request, "management")})

    app.router.add_post("/x/{tenant}/execute", execution)
    app.router.add_post("/x/{tenant}/manage", management)
    async with TestClient(TestServer(app)) as client:
        yield Api(client)


async def test_both_token_kinds_may_execute(
    api: Api, probe: Api, acme: Tenant, globex: Tenant
) -> None:
    for token, status in ((acme.management_token, 200), (acme.execution_token, 200),
                          (globex.execution_token, 404), ("nope", 401)):
        got, _ = await probe.call("POST", "/x/acme/execute", token=token)
        assert got == status, token
    status, body = await probe.call("POST", "/x/acme/manage", token=acme.management_token)
    assert (status, body) == (200, {"tenant": "acme"})
    status, body = await probe.call("POST", "/x/acme/manage", token=acme.execution_token)
    assert (status, error_code(body)) == (403, "forbidden")
