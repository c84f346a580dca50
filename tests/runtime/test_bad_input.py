"""Hostile and malformed requests: each gets a JSON error, none crashes the gateway."""
from __future__ import annotations

import json
import logging
import socket

import msgpack
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from runtime.gateway.app import create_app
from runtime.gateway.http import error_middleware
from runtime.settings import Settings
from tests.runtime.apiclient import GOOD_CODE, Api, Tenant, error_code

ACTIONS = "/v1/tenants/acme/actions"


def action_body(**fields: object) -> dict:
    return {"name": "a", "supported_triggers": [{"id": "post-login"}], "code": GOOD_CODE, **fields}


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    (b'{"name": ', "application/json", 400, "malformed_body"),
    (b"[1, 2]", "application/json", 400, "body_not_object"),
    (b"null", "application/json", 400, "body_not_object"),
    (b'"text"', "application/json", 400, "body_not_object"),
    (b"", "application/json", 400, "empty_body"),
    (b'{"name": "\xff\xfe"}', "application/json", 400, "malformed_body"),
    (b'{"name": NaN}', "application/json", 400, "malformed_body"),
    (b'{"name": Infinity}', "application/json", 400, "malformed_body"),
    (b"[" * 200_000 + b"]" * 200_000, "application/json", 400, "malformed_body"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json", 400, "malformed_body"),
    (b'{"name": "a"}', "application/json; charset=latin-1", 415, "unsupported_media_type"),
    (b'{"name": "a"}', "text/plain", 415, "unsupported_media_type"),
    (b"name=a", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'<a name="x"/>', "application/xml", 415, "unsupported_media_type"),
    (b"\xc1", "application/msgpack", 400, "malformed_body"),
    (msgpack.packb([1, 2]), "application/msgpack", 400, "body_not_object"),
    (msgpack.packb({1: "x"}), "application/msgpack", 400, "malformed_body"),
    (msgpack.packb({"a": msgpack.ExtType(5, b"x")}), "application/msgpack", 400, "malformed_body"),
    (b"\x91" * 100_000 + b"\xc0", "application/msgpack", 400, "malformed_body"),
    (msgpack.packb({"a": 1}) + b"trailing", "application/x-msgpack", 400, "malformed_body"),
])
async def test_malformed_bodies(
    api: Api, acme: Tenant, data: bytes, content_type: str, status: int, code: str
) -> None:
    got, body = await api.call("POST", ACTIONS, token=acme.management_token, data=data,
                               headers={"Content-Type": content_type})
    assert (got, error_code(body)) == (status, code)


async def test_body_over_the_limit_is_413(api: Api, acme: Tenant) -> None:
    data = json.dumps(action_body(code="#" * (600 * 1024))).encode()
    status, body = await api.call("POST", ACTIONS, token=acme.management_token, data=data,
                                  headers={"Content-Type": "application/json"})
    assert (status, error_code(body)) == (413, "body_too_large")


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8",
    None,  # curl -d without -H: read as JSON
])
async def test_json_content_types_accepted(api: Api, acme: Tenant, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
    data = json.dumps(action_body()).encode()
    if content_type is None:
        response = await api.client.post(ACTIONS, data=data, skip_auto_headers=["Content-Type"],
                                         headers={"Authorization": f"Bearer {acme.management_token}"})
        assert response.status == 201
        return
    status, body = await api.call("POST", ACTIONS, token=acme.management_token, data=data,
                                  headers=headers)
    assert (status, body["name"]) == (201, "a")


@pytest.mark.parametrize("content_type", ["application/msgpack", "application/x-msgpack"])
async def test_msgpack_in_and_out(api: Api, acme: Tenant, content_type: str) -> None:
    status, body = await api.call(
        "POST", ACTIONS, token=acme.management_token, data=msgpack.packb(action_body()),
        headers={"Content-Type": content_type, "Accept": "application/msgpack"},
    )
    assert status == 201 and body["code"] == GOOD_CODE  # Api.call decoded a msgpack response
    status, body = await api.call("GET", "/v1/tenants/acme/actions/missing",
                                  token=acme.management_token, headers={"Accept": "application/msgpack"})
    assert (status, error_code(body)) == (404, "action_not_found")


@pytest.mark.parametrize("name", ["ロール追加 ✓", "Émilie's action", "🔐 roles", "a/b\\c", "<script>"])
async def test_unicode_and_odd_names_round_trip(api: Api, acme: Tenant, name: str) -> None:
    created = await api.create_action(acme, name=name)
    response = await api.client.get(ACTIONS, params={"name": name},
                                    headers={"Authorization": f"Bearer {acme.management_token}"})
    assert (await response.json())["actions"] == [created]


@pytest.mark.parametrize("path", [
    "/v1/tenants/acme/actions/..%2F..%2Ftenants",
    "/v1/tenants/acme/actions/%00",
    "/v1/tenants/acme/actions/*",
    "/v1/tenants/acme/actions/ar:t:acme:actions",
    "/v1/tenants/acme/actions/" + "a" * 5000,
])
async def test_path_traversal_ish_action_ids_are_404(api: Api, acme: Tenant, path: str) -> None:
    status, body = await api.call("GET", path, token=acme.management_token)
    assert (status, error_code(body)) == (404, "action_not_found")


@pytest.mark.parametrize("tenant", ["..%2Facme", "acme%00", "*", "ACME", "acme:x"])
async def test_odd_tenant_paths_are_404(api: Api, acme: Tenant, tenant: str) -> None:
    status, body = await api.call("GET", f"/v1/tenants/{tenant}/actions", token=acme.management_token)
    assert (status, error_code(body)) == (404, "tenant_not_found")


async def test_ten_thousand_secrets_are_refused(api: Api, acme: Tenant, aredis: aioredis.Redis) -> None:
    secrets = [{"name": f"S{i}", "value": "v"} for i in range(10_000)]
    status, body = await api.call("POST", ACTIONS, token=acme.management_token,
                                  json=action_body(secrets=secrets))
    assert (status, error_code(body)) == (422, "too_many_secrets")
    assert await aredis.hlen("ar:t:acme:actions") == 0


async def test_unknown_route_and_wrong_method(api: Api) -> None:
    status, body = await api.call("GET", "/v2/nothing")
    assert (status, error_code(body)) == (404, "not_found")
    response = await api.client.put("/v1/tenants")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert error_code(await response.json()) == "method_not_allowed"


async def test_redis_outage_is_503_with_retry_after() -> None:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    app = create_app(Settings(redis_url=dead, admin_token="a", redis_socket_timeout_s=0.5))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/v1/tenants/acme/actions",
                                    headers={"Authorization": "Bearer arm_x"})
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        assert error_code(await response.json()) == "redis_unavailable"


async def test_unexpected_exception_is_500_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = web.Application(middlewares=[error_middleware])

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    app.router.add_get("/boom", boom)
    with caplog.at_level(logging.ERROR, logger="runtime.gateway.http"):
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/boom")
            text = await response.text()
    assert response.status == 500
    assert json.loads(text) == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "Traceback" not in text
    assert "secret internal detail" in caplog.text  # logged for operators, not sent to callers
