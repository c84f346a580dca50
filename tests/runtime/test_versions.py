"""Deploys, versions and rollbacks."""
from __future__ import annotations

import asyncio
import hashlib

import pytest
import redis.asyncio as aioredis

from runtime.store.flows import resolve_flow
from tests.runtime.apiclient import BROKEN_CODE, GOOD_CODE, OTHER_CODE, Api, Tenant, error_code

VERSION_KEYS = {"id", "action_id", "number", "code", "code_sha256", "supported_triggers",
                "rollback_of", "deployed", "created_at"}


def path(tenant: Tenant, action_id: str, *rest: str) -> str:
    return "/".join([f"/v1/tenants/{tenant.id}/actions/{action_id}", *rest])


async def test_deploy_creates_an_immutable_version(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    action = await api.create_action(acme)
    status, version = await api.call("POST", path(acme, action["id"], "deploy"),
                                     token=acme.management_token)
    assert status == 201
    assert set(version) == VERSION_KEYS
    assert (version["number"], version["deployed"], version["action_id"]) == (1, True, action["id"])
    assert version["code"] == GOOD_CODE
    assert version["code_sha256"] == hashlib.sha256(GOOD_CODE.encode()).hexdigest()
    assert version["rollback_of"] is None
    status, doc = await api.call("GET", path(acme, action["id"]), token=acme.management_token)
    assert doc["deployed_version"] == 1
    # Editing the draft leaves the deployed version alone.
    await api.call("PATCH", path(acme, action["id"]), token=acme.management_token,
                   json={"code": OTHER_CODE})
    status, stored = await api.call("GET", path(acme, action["id"], "versions", "1"),
                                    token=acme.management_token)
    assert (status, stored) == (200, version)
    assert await aredis.get("ar:t:acme:rev") == b"3"


async def test_deploy_of_a_draft_that_does_not_build_is_422(api: Api, acme: Tenant) -> None:
    action = await api.create_action(acme, code=BROKEN_CODE)
    status, body = await api.call("POST", path(acme, action["id"], "deploy"),
                                  token=acme.management_token)
    assert (status, error_code(body)) == (422, "action_build_failed")
    assert body["error"]["details"]["errors"] == action["errors"]
    assert body["error"]["details"]["errors"][0]["line"] == 1
    status, body = await api.call("GET", path(acme, action["id"], "versions"),
                                  token=acme.management_token)
    assert body == {"versions": [], "total": 0}


async def test_versions_list_newest_first_without_code(api: Api, acme: Tenant) -> None:
    action = await api.create_action(acme)
    await api.deploy(acme, action["id"])
    await api.call("PATCH", path(acme, action["id"]), token=acme.management_token,
                   json={"code": OTHER_CODE})
    await api.deploy(acme, action["id"])
    status, body = await api.call("GET", path(acme, action["id"], "versions"),
                                  token=acme.management_token)
    assert status == 200 and body["total"] == 2
    assert [(v["number"], v["deployed"]) for v in body["versions"]] == [(2, True), (1, False)]
    assert all("code" not in v for v in body["versions"])
    status, one = await api.call("GET", path(acme, action["id"], "versions", "1"),
                                 token=acme.management_token)
    assert (one["code"], one["deployed"]) == (GOOD_CODE, False)


async def test_rollback_redeploys_old_code_as_a_new_version(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    action = await api.create_action(acme)
    await api.deploy(acme, action["id"])
    await api.call("PATCH", path(acme, action["id"]), token=acme.management_token,
                   json={"code": OTHER_CODE})
    await api.deploy(acme, action["id"])
    assert (await api.bind(acme, "post-login", "add-roles"))[0] == 200
    rev, flow = await resolve_flow(aredis, "acme", "post-login")
    assert (flow[0]["version"], flow[0]["code"]) == (2, OTHER_CODE)
    status, version = await api.call("POST", path(acme, action["id"], "versions", "1", "deploy"),
                                     token=acme.management_token)
    assert status == 201
    assert (version["number"], version["code"], version["rollback_of"]) == (3, GOOD_CODE, 1)
    assert version["deployed"] is True
    new_rev, flow = await resolve_flow(aredis, "acme", "post-login")
    assert new_rev == rev + 1
    assert (flow[0]["version"], flow[0]["code"]) == (3, GOOD_CODE)
    status, doc = await api.call("GET", path(acme, action["id"]), token=acme.management_token)
    assert (doc["deployed_version"], doc["code"]) == (3, OTHER_CODE)  # the draft is untouched


@pytest.mark.parametrize("number", ["2", "0", "-1", "abc", "1e3", "٣", "9" * 30])
async def test_unknown_version_numbers_are_404(api: Api, acme: Tenant, number: str) -> None:
    action = await api.create_action(acme)
    await api.deploy(acme, action["id"])
    for method, suffix in (("GET", ()), ("POST", ("deploy",))):
        status, body = await api.call(method, path(acme, action["id"], "versions", number, *suffix),
                                      token=acme.management_token)
        assert (status, error_code(body)) == (404, "version_not_found"), method


@pytest.mark.parametrize(("method", "suffix"), [
    ("POST", ("deploy",)),
    ("GET", ("versions",)),
    ("GET", ("versions", "1")),
    ("POST", ("versions", "1", "deploy")),
])
async def test_version_calls_on_missing_action_are_404(
    api: Api, acme: Tenant, method: str, suffix: tuple[str, ...]
) -> None:
    status, body = await api.call(method, path(acme, "missing", *suffix),
                                  token=acme.management_token)
    assert (status, error_code(body)) == (404, "action_not_found")


async def test_concurrent_deploys_get_distinct_numbers(
    api: Api, acme: Tenant, aredis: aioredis.Redis
) -> None:
    action = await api.create_action(acme)
    calls = [api.call("POST", path(acme, action["id"], "deploy"), token=acme.management_token)
             for _ in range(8)]
    answers = await asyncio.gather(*calls)
    assert sorted(body["number"] for status, body in answers if status == 201) == list(range(1, 9))
    status, doc = await api.call("GET", path(acme, action["id"]), token=acme.management_token)
    assert (status, doc["deployed_version"]) == (200, 8)
    assert await aredis.get("ar:t:acme:rev") == b"9"
