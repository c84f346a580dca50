"""Quotas that keep one tenant from filling the shared Redis: actions and versions."""
from __future__ import annotations

import pytest

from runtime.store import actions, versions
from tests.runtime.apiclient import GOOD_CODE, Api, Tenant, error_code


async def test_action_quota(api: Api, acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "MAX_ACTIONS", 2)
    await api.create_action(acme, name="a")
    await api.create_action(acme, name="b")
    status, body = await api.call(
        "POST", f"/v1/tenants/{acme.id}/actions", token=acme.management_token,
        json={"name": "c", "supported_triggers": [{"id": "post-login"}], "code": GOOD_CODE})
    assert (status, error_code(body)) == (422, "too_many_actions")


async def test_version_quota(api: Api, acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions, "MAX_VERSIONS", 2)
    action = await api.create_action(acme)
    await api.deploy(acme, action["id"])
    await api.deploy(acme, action["id"])
    status, body = await api.call(
        "POST", f"/v1/tenants/{acme.id}/actions/{action['id']}/deploy",
        token=acme.management_token)
    assert (status, error_code(body)) == (422, "too_many_versions")
