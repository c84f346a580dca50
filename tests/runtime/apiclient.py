"""Helpers shared by the management API tests (fixtures are in conftest.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack
from aiohttp.test_utils import TestClient

ADMIN_TOKEN = "test-admin-token"
GOOD_CODE = (
    "def on_execute_post_login(event, api):\n"
    "    api.id_token.set_custom_claim('https://example.com/roles', ['admin'])\n"
)
OTHER_CODE = "def on_execute_post_login(event, api):\n    pass\n"
BROKEN_CODE = "def on_execute_post_login(event, api)\n    pass\n"


@dataclass(frozen=True)
class Tenant:
    id: str
    management_token: str
    execution_token: str


class Api:
    """A TestClient with the bearer token and body encoding tests keep repeating."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.client.request(method, path, json=json, data=data, headers=sent)
        raw = await response.read()
        if not raw:
            return response.status, None
        if response.content_type == "application/msgpack":
            return response.status, msgpack.unpackb(raw, raw=False)
        assert response.content_type == "application/json", raw
        return response.status, await response.json()

    async def create_tenant(self, tenant_id: str) -> Tenant:
        status, body = await self.call("POST", "/v1/tenants", token=ADMIN_TOKEN, json={"id": tenant_id})
        assert status == 201, body
        return Tenant(body["id"], body["management_token"], body["execution_token"])

    async def create_action(self, tenant: Tenant, **fields: Any) -> dict[str, Any]:
        doc = {"name": "add-roles", "supported_triggers": [{"id": "post-login", "version": "v3"}],
               "code": GOOD_CODE, **fields}
        status, body = await self.call(
            "POST", f"/v1/tenants/{tenant.id}/actions", token=tenant.management_token, json=doc
        )
        assert status == 201, body
        return body

    async def deploy(self, tenant: Tenant, action_id: str) -> dict[str, Any]:
        status, body = await self.call(
            "POST", f"/v1/tenants/{tenant.id}/actions/{action_id}/deploy",
            token=tenant.management_token,
        )
        assert status == 201, body
        return body

    async def bind(self, tenant: Tenant, trigger_id: str, *names: str) -> tuple[int, Any]:
        refs = [{"ref": {"type": "action_name", "value": n}} for n in names]
        return await self.call(
            "PATCH", f"/v1/tenants/{tenant.id}/triggers/{trigger_id}/bindings",
            token=tenant.management_token, json={"bindings": refs},
        )


def error_code(body: Any) -> str:
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str)
    return body["error"]["code"]


