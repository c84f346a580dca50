"""Action drafts: create, list, read, edit, delete; secrets stay write-only."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.runtime.apiclient import BROKEN_CODE, GOOD_CODE, OTHER_CODE, Api, Tenant, error_code

ACTION_KEYS = {"id", "name", "supported_triggers", "code", "secrets", "status", "errors",
               "deployed_version", "created_at", "updated_at"}
POST_LOGIN = [{"id": "post-login", "version": "v3"}]


def actions_path(tenant: Tenant, *rest: str) -> str:
    return "/".join([f"/v1/tenants/{tenant.id}/actions", *rest])


async def rev(aredis: aioredis.Redis, tenant: Tenant) -> int:
    return int(await aredis.get(f"ar:t:{tenant.id}:rev"))


async def test_create_action_returns_the_auth0_shaped_doc(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    status, doc = await api.call("POST", actions_path(acme), token=acme.management_token, json={
        "name": "add-roles", "supported_triggers": [{"id": "post-login"}], "code": GOOD_CODE,
        "secrets": [{"name": "API_KEY", "value": "s3cr3t-value"}],
    })
    assert status == 201
    assert set(doc) == ACTION_KEYS
    assert doc["name"] == "add-roles"
    assert doc["supported_triggers"] == POST_LOGIN  # version filled in from the trigger table
    assert (doc["code"], doc["status"], doc["errors"]) == (GOOD_CODE, "built", [])
    assert doc["secrets"] == [{"name": "API_KEY", "updated_at": doc["created_at"]}]
    assert doc["deployed_version"] is None
    assert await aredis.hgetall(f"ar:t:acme:secrets:{doc['id']}") == {b"API_KEY": b"s3cr3t-value"}
    assert b"s3cr3t-value" not in await aredis.hget("ar:t:acme:actions", doc["id"])
    assert await rev(aredis, acme) == 1


async def test_code_that_does_not_build_is_stored_with_its_errors(api: Api, acme: Tenant) -> None:
    doc = await api.create_action(acme, code=BROKEN_CODE)
    assert doc["status"] == "failed"
    assert len(doc["errors"]) >= 1
    assert doc["errors"][0]["line"] == 1
    assert set(doc["errors"][0]) == {"line", "column", "message"}


def _with(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "a", "supported_triggers": POST_LOGIN, "code": GOOD_CODE}
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(("body", "code"), [
    (_with(name=...), "missing_field"),
    (_with(code=...), "missing_field"),
    (_with(supported_triggers=...), "missing_field"),
    (_with(runtime="node18"), "unknown_field"),
    (_with(name=""), "invalid_name"),
    (_with(name="x" * 101), "invalid_name"),
    (_with(name=" padded"), "invalid_name"),
    (_with(name="line\nbreak"), "invalid_name"),
    (_with(name=7), "invalid_name"),
    (_with(supported_triggers=[]), "invalid_supported_triggers"),
    (_with(supported_triggers="post-login"), "invalid_supported_triggers"),
    (_with(supported_triggers=[{"id": "post-login"}, {"id": "post-login"}]),
     "invalid_supported_triggers"),
    (_with(supported_triggers=[{"id": "post-login", "extra": 1}]), "unknown_field"),
    (_with(supported_triggers=[{"id": "pre-login"}]), "unknown_trigger"),
    (_with(supported_triggers=[{"id": "post-login", "version": "v2"}]),
     "unsupported_trigger_version"),
    (_with(code=12), "invalid_code"),
    (_with(code="#" * (256 * 1024 + 1)), "code_too_large"),
    (_with(secrets={"A": "b"}), "invalid_secrets"),
    (_with(secrets=["A"]), "invalid_secrets"),
    (_with(secrets=[{"name": "1BAD", "value": "v"}]), "invalid_secret_name"),
    (_with(secrets=[{"name": "A" * 65, "value": "v"}]), "invalid_secret_name"),
    (_with(secrets=[{"name": "A", "value": None}]), "invalid_secret_value"),
    (_with(secrets=[{"name": "A"}]), "invalid_secret_value"),
    (_with(secrets=[{"name": "A", "value": 3}]), "invalid_secret_value"),
    (_with(secrets=[{"name": "A", "value": "v" * 4097}]), "secret_too_large"),
    (_with(secrets=[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]), "invalid_secrets"),
    (_with(secrets=[{"name": f"S{i}", "value": "v"} for i in range(51)]), "too_many_secrets"),
])
async def test_create_action_validation(api: Api, acme: Tenant, body: dict, code: str) -> None:
    status, answer = await api.call("POST", actions_path(acme), token=acme.management_token,
                                    json=body)
    assert (status, error_code(answer)) == (422, code)


async def test_duplicate_name_is_409(api: Api, acme: Tenant) -> None:
    await api.create_action(acme, name="same")
    status, body = await api.call("POST", actions_path(acme), token=acme.management_token,
                                  json=_with(name="same"))
    assert (status, error_code(body)) == (409, "action_name_taken")


async def test_list_and_filter_actions(api: Api, acme: Tenant) -> None:
    first = await api.create_action(acme, name="first")
    second = await api.create_action(
        acme, name="second", supported_triggers=[{"id": "credentials-exchange"}],
        code="def on_execute_credentials_exchange(event, api):\n    pass\n",
    )
    for query, expected in [
        ("", [first, second]),
        ("?trigger_id=post-login", [first]),
        ("?trigger_id=credentials-exchange", [second]),
        ("?trigger_id=nope", []),
        ("?name=second", [second]),
        ("?name=second&trigger_id=post-login", []),
    ]:
        status, body = await api.call("GET", actions_path(acme) + query, token=acme.management_token)
        assert (status, body) == (200, {"actions": expected, "total": len(expected)}), query


async def test_get_action(api: Api, acme: Tenant) -> None:
    doc = await api.create_action(acme)
    status, body = await api.call("GET", actions_path(acme, doc["id"]), token=acme.management_token)
    assert (status, body) == (200, doc)
    status, body = await api.call("GET", actions_path(acme, "missing"), token=acme.management_token)
    assert (status, error_code(body)) == (404, "action_not_found")


async def test_patch_edits_the_draft(api: Api, acme: Tenant, aredis: aioredis.Redis) -> None:
    doc = await api.create_action(acme, name="old", secrets=[{"name": "KEEP", "value": "1"},
                                                             {"name": "DROP", "value": "2"}])
    status, body = await api.call("PATCH", actions_path(acme, doc["id"]), token=acme.management_token,
                                  json={"name": "new", "code": BROKEN_CODE, "secrets": [
                                      {"name": "DROP", "value": None},
                                      {"name": "ADDED", "value": "3"}]})
    assert status == 200
    assert (body["name"], body["code"], body["status"]) == ("new", BROKEN_CODE, "failed")
    assert [s["name"] for s in body["secrets"]] == ["ADDED", "KEEP"]
    assert body["created_at"] == doc["created_at"] and body["updated_at"] >= doc["updated_at"]
    assert await aredis.hgetall(f"ar:t:acme:secrets:{doc['id']}") == {b"KEEP": b"1", b"ADDED": b"3"}
    assert await aredis.hgetall("ar:t:acme:action_names") == {b"new": doc["id"].encode()}
    status, body = await api.call("PATCH", actions_path(acme, doc["id"]),
                                  token=acme.management_token, json={"code": GOOD_CODE})
    assert (status, body["status"], body["errors"]) == (200, "built", [])
    assert await rev(aredis, acme) == 3
    await api.create_action(acme, name="old")  # the old name is free again


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"name": "taken"}, 409, "action_name_taken"),
    ({"supported_triggers": []}, 422, "invalid_supported_triggers"),
    ({"secrets": [{"name": f"S{i}", "value": "v"} for i in range(50)]}, 422, "too_many_secrets"),
    ({"id": "other"}, 422, "unknown_field"),
])
async def test_patch_errors(api: Api, acme: Tenant, body: dict, status: int, code: str) -> None:
    await api.create_action(acme, name="taken")
    doc = await api.create_action(acme, name="mine", secrets=[{"name": "EXISTING", "value": "x"}])
    got, answer = await api.call("PATCH", actions_path(acme, doc["id"]),
                                 token=acme.management_token, json=body)
    assert (got, error_code(answer)) == (status, code)


async def test_patch_missing_action_is_404(api: Api, acme: Tenant) -> None:
    status, body = await api.call("PATCH", actions_path(acme, "missing"),
                                  token=acme.management_token, json={"name": "x"})
    assert (status, error_code(body)) == (404, "action_not_found")


async def test_dropping_a_bound_trigger_is_409(api: Api, acme: Tenant) -> None:
    doc = await api.create_action(acme, supported_triggers=[{"id": "post-login"},
                                                            {"id": "credentials-exchange"}])
    await api.deploy(acme, doc["id"])
    assert (await api.bind(acme, "post-login", "add-roles"))[0] == 200
    status, body = await api.call("PATCH", actions_path(acme, doc["id"]), token=acme.management_token,
                                  json={"supported_triggers": [{"id": "credentials-exchange"}]})
    assert (status, error_code(body)) == (409, "action_bound")
    status, body = await api.call("PATCH", actions_path(acme, doc["id"]), token=acme.management_token,
                                  json={"supported_triggers": [{"id": "post-login"}]})
    assert (status, body["supported_triggers"]) == (200, POST_LOGIN)


async def test_delete_action(api: Api, acme: Tenant, aredis: aioredis.Redis) -> None:
    doc = await api.create_action(acme, secrets=[{"name": "K", "value": "v"}])
    await api.deploy(acme, doc["id"])
    status, body = await api.call("DELETE", actions_path(acme, doc["id"]), token=acme.management_token)
    assert (status, body) == (204, None)
    assert [k async for k in aredis.scan_iter(f"*{doc['id']}*")] == []
    assert await aredis.hlen("ar:t:acme:action_names") == 0
    status, body = await api.call("DELETE", actions_path(acme, doc["id"]), token=acme.management_token)
    assert (status, error_code(body)) == (404, "action_not_found")


async def test_delete_bound_action_needs_force(api: Api, acme: Tenant, aredis: aioredis.Redis) -> None:
    bound = await api.create_action(acme, name="bound")
    other = await api.create_action(acme, name="other", code=OTHER_CODE)
    for action in (bound, other):
        await api.deploy(acme, action["id"])
    assert (await api.bind(acme, "post-login", "bound", "other"))[0] == 200
    status, body = await api.call("DELETE", actions_path(acme, bound["id"]), token=acme.management_token)
    assert (status, error_code(body)) == (409, "action_bound")
    status, body = await api.call("DELETE", actions_path(acme, bound["id"]) + "?force=maybe",
                                  token=acme.management_token)
    assert (status, error_code(body)) == (400, "invalid_query")
    before = await rev(aredis, acme)
    status, _ = await api.call("DELETE", actions_path(acme, bound["id"]) + "?force=true",
                               token=acme.management_token)
    assert status == 204
    assert await rev(aredis, acme) == before + 1
    status, body = await api.call("GET", "/v1/tenants/acme/triggers/post-login/bindings",
                                  token=acme.management_token)
    assert [b["action"]["name"] for b in body["bindings"]] == ["other"]


async def test_secret_values_never_appear_in_responses_or_logs(
    api: Api, acme: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    marker = "VALUE-7f3a-never-shown"
    doc = await api.create_action(acme, secrets=[{"name": "S", "value": marker}])
    await api.call("PATCH", actions_path(acme, doc["id"]), token=acme.management_token,
                   json={"secrets": [{"name": "T", "value": marker}, {"name": "1bad", "value": marker}]})
    await api.deploy(acme, doc["id"])
    responses = []
    for path in (actions_path(acme), actions_path(acme, doc["id"]),
                 actions_path(acme, doc["id"], "versions"),
                 actions_path(acme, doc["id"], "versions", "1")):
        response = await api.client.get(path, headers={"Authorization": f"Bearer {acme.management_token}"})
        responses.append(await response.text())
    assert all(marker not in text for text in responses)
    assert marker not in caplog.text


async def test_concurrent_creates_with_one_name_make_one_action(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    calls = [api.call("POST", actions_path(acme), token=acme.management_token,
                      json=_with(name="race")) for _ in range(10)]
    statuses = sorted(status for status, _ in await asyncio.gather(*calls))
    assert statuses == [201] + [409] * 9
    assert await aredis.hlen("ar:t:acme:actions") == 1
    assert await rev(aredis, acme) == 1
