"""Triggers, bindings, and the flows workers resolve from them."""
from __future__ import annotations

import hashlib

import msgpack
import pytest
import redis.asyncio as aioredis

from runtime.errors import ApiError
from runtime.store.flows import current_rev, load_draft, resolve_flow
from sandbox.triggers import TRIGGERS
from tests.runtime.apiclient import GOOD_CODE, OTHER_CODE, Api, Tenant, error_code

BINDINGS = "/v1/tenants/acme/triggers/post-login/bindings"
CX_CODE = "def on_execute_credentials_exchange(event, api):\n    pass\n"


async def deployed(api: Api, tenant: Tenant, name: str, **fields: object) -> dict:
    action = await api.create_action(tenant, name=name, **fields)
    await api.deploy(tenant, action["id"])
    return action


async def test_list_triggers(api: Api, acme: Tenant) -> None:
    status, body = await api.call("GET", "/v1/tenants/acme/triggers", token=acme.management_token)
    assert status == 200
    assert body == {"triggers": [t.to_json() for t in TRIGGERS.values()]}
    assert body["triggers"][0] == {"id": "post-login", "version": "v3", "blocking": True,
                                   "handlers": ["on_execute_post_login", "on_continue_post_login"]}


async def test_bindings_start_empty(api: Api, acme: Tenant) -> None:
    status, body = await api.call("GET", BINDINGS, token=acme.management_token)
    assert (status, body) == (200, {"bindings": []})


async def test_patch_bindings_replaces_the_ordered_list(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    first = await deployed(api, acme, "first", secrets=[{"name": "KEY", "value": "v1"}])
    second = await deployed(api, acme, "second", code=OTHER_CODE)
    status, body = await api.call("PATCH", BINDINGS, token=acme.management_token, json={"bindings": [
        {"ref": {"type": "action_id", "value": second["id"]}, "display_name": "Second one"},
        {"ref": {"type": "action_name", "value": "first"}},
    ]})
    assert status == 200
    assert body == {"bindings": [
        {"trigger_id": "post-login", "display_name": "Second one",
         "action": {"id": second["id"], "name": "second", "deployed_version": 1}},
        {"trigger_id": "post-login", "display_name": "first",
         "action": {"id": first["id"], "name": "first", "deployed_version": 1}},
    ]}
    assert (await api.call("GET", BINDINGS, token=acme.management_token)) == (200, body)
    rev, flow = await resolve_flow(aredis, "acme", "post-login")
    assert rev == await current_rev(aredis, "acme") == 5
    assert flow == [
        {"action_id": second["id"], "name": "second", "version": 1, "code": OTHER_CODE,
         "code_sha256": hashlib.sha256(OTHER_CODE.encode()).hexdigest(), "secrets": {}},
        {"action_id": first["id"], "name": "first", "version": 1, "code": GOOD_CODE,
         "code_sha256": hashlib.sha256(GOOD_CODE.encode()).hexdigest(), "secrets": {"KEY": "v1"}},
    ]
    status, body = await api.call("PATCH", BINDINGS, token=acme.management_token,
                                  json={"bindings": []})
    assert (status, body) == (200, {"bindings": []})
    assert await resolve_flow(aredis, "acme", "post-login") == (6, [])


async def test_new_deploys_and_secret_changes_are_visible_to_the_next_resolve(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    action = await deployed(api, acme, "a", secrets=[{"name": "K", "value": "old"}])
    await api.bind(acme, "post-login", "a")
    rev, _flow = await resolve_flow(aredis, "acme", "post-login")
    await api.call("PATCH", f"/v1/tenants/acme/actions/{action['id']}", token=acme.management_token,
                   json={"code": OTHER_CODE, "secrets": [{"name": "K", "value": "new"}]})
    rev2, flow2 = await resolve_flow(aredis, "acme", "post-login")
    assert rev2 == rev + 1
    assert (flow2[0]["code"], flow2[0]["secrets"]) == (GOOD_CODE, {"K": "new"})  # draft not live
    await api.deploy(acme, action["id"])
    rev3, flow3 = await resolve_flow(aredis, "acme", "post-login")
    assert (rev3, flow3[0]["version"], flow3[0]["code"]) == (rev2 + 1, 2, OTHER_CODE)


@pytest.mark.parametrize(("bindings", "code"), [
    ([{"ref": {"type": "action_name", "value": "missing"}}], "binding_action_not_found"),
    ([{"ref": {"type": "action_id", "value": "missing"}}], "binding_action_not_found"),
    ([{"ref": {"type": "action_name", "value": "draft-only"}}], "binding_action_not_deployed"),
    ([{"ref": {"type": "action_name", "value": "cx"}}], "binding_trigger_unsupported"),
    ([{"ref": {"type": "action_name", "value": "live"}}] * 2, "duplicate_binding"),
    ([{"ref": {"type": "action_name", "value": "live"}}] * 21, "too_many_bindings"),
    ([{"ref": {"type": "name", "value": "live"}}], "invalid_bindings"),
    ([{"ref": {"type": ["action_name"], "value": "live"}}], "invalid_bindings"),
    ([{"ref": {"type": "action_name", "value": 1}}], "invalid_bindings"),
    ([{"ref": {"type": "action_name", "value": "live", "x": 1}}], "unknown_field"),
    ([{"ref": {"type": "action_name", "value": "live"}, "display_name": ""}], "invalid_name"),
    ([{"ref": {"type": "action_name", "value": "live"}, "order": 1}], "unknown_field"),
    (["live"], "invalid_bindings"),
    ("live", "invalid_bindings"),
    (None, "invalid_bindings"),
])
async def test_invalid_bindings_are_422(
    api: Api, acme: Tenant, aredis: aioredis.Redis, bindings: object, code: str
) -> None:
    await deployed(api, acme, "live")
    await api.create_action(acme, name="draft-only")
    await deployed(api, acme, "cx", supported_triggers=[{"id": "credentials-exchange"}], code=CX_CODE)
    before = await current_rev(aredis, "acme")
    status, body = await api.call("PATCH", BINDINGS, token=acme.management_token,
                                  json={"bindings": bindings})
    assert (status, error_code(body)) == (422, code)
    assert await current_rev(aredis, "acme") == before
    assert (await api.call("GET", BINDINGS, token=acme.management_token))[1] == {"bindings": []}


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_unknown_trigger_is_404(api: Api, acme: Tenant, method: str) -> None:
    status, body = await api.call(method, "/v1/tenants/acme/triggers/pre-login/bindings",
                                  token=acme.management_token, json={"bindings": []})
    assert (status, error_code(body)) == (404, "trigger_not_found")


async def test_load_draft(api: Api, acme: Tenant, aredis: aioredis.Redis) -> None:
    action = await api.create_action(acme, secrets=[{"name": "K", "value": "v"}])
    draft = await load_draft(aredis, "acme", action["id"])
    assert draft == {
        "action_id": action["id"], "name": "add-roles", "code": GOOD_CODE,
        "code_sha256": hashlib.sha256(GOOD_CODE.encode()).hexdigest(), "status": "built",
        "errors": [], "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "secrets": {"K": "v"},
    }
    with pytest.raises(ApiError) as raised:
        await load_draft(aredis, "acme", "missing")
    assert (raised.value.status, raised.value.code) == (404, "action_not_found")


async def test_resolve_flow_of_unknown_tenant_is_empty(aredis: aioredis.Redis) -> None:
    assert await resolve_flow(aredis, "nobody", "post-login") == (0, [])


async def test_resolve_flow_skips_a_dangling_binding(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    live = await deployed(api, acme, "live")
    await aredis.set("ar:t:acme:bindings:post-login", msgpack.packb([
        {"action_id": "gone", "display_name": "gone"},
        {"action_id": live["id"], "display_name": "live"},
    ]))
    _rev, flow = await resolve_flow(aredis, "acme", "post-login")
    assert [action["name"] for action in flow] == ["live"]
    status, body = await api.call("GET", BINDINGS, token=acme.management_token)
    assert (status, [b["action"]["name"] for b in body["bindings"]]) == (200, [None, "live"])
