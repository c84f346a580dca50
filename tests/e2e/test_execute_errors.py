"""Execute endpoint: every bad input gets its status and error code; nothing crashes."""
from __future__ import annotations

import json

import msgpack
import pytest

from tests.e2e.test_walkthrough import LOGIN_EVENT, ROLES_ACTION, bind, deploy_and_bind, execute
from tests.service import Service


def path(tenant: dict[str, str], trigger: str = "post-login") -> str:
    return f"/v1/tenants/{tenant['id']}/triggers/{trigger}/execute"


def test_without_token_is_401(service: Service, tenant: dict[str, str]) -> None:
    reply = service.request("POST", path(tenant), LOGIN_EVENT)
    assert (reply.status, reply.body["error"]["code"]) == (401, "unauthorized")


def test_unknown_token_is_401(service: Service, tenant: dict[str, str]) -> None:
    reply = service.request("POST", path(tenant), LOGIN_EVENT, token="are_not-a-token")
    assert reply.status == 401


def test_other_tenants_token_is_404(service: Service, tenant: dict[str, str]) -> None:
    other = service.tenant(tenant["id"] + "-b")
    reply = service.request("POST", path(tenant), LOGIN_EVENT, token=other["execution_token"])
    assert (reply.status, reply.body["error"]["code"]) == (404, "tenant_not_found")


def test_management_token_also_executes(service: Service, tenant: dict[str, str]) -> None:
    reply = service.request("POST", path(tenant), LOGIN_EVENT, token=tenant["management_token"])
    assert (reply.status, reply.body["status"]) == (200, "success")


def test_unknown_trigger_is_404(service: Service, tenant: dict[str, str]) -> None:
    reply = execute(service, tenant, "post-logout", LOGIN_EVENT)
    assert (reply.status, reply.body["error"]["code"]) == (404, "trigger_not_found")


@pytest.mark.parametrize("raw, content_type, status, code", [
    (b"{not json", "application/json", 400, "malformed_body"),
    (b"[1, 2]", "application/json", 400, "body_not_object"),
    (b"\xff\xfe", "application/json", 400, "malformed_body"),
    (msgpack.packb([1]), "application/msgpack", 400, "body_not_object"),
    (b"\xc1", "application/msgpack", 400, "malformed_body"),
    (b"user=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"{}", "text/plain", 415, "unsupported_media_type"),
])
def test_bad_bodies(service: Service, tenant: dict[str, str], raw: bytes, content_type: str,
                    status: int, code: str) -> None:
    reply = service.request("POST", path(tenant), raw=raw, token=tenant["execution_token"],
                            headers={"Content-Type": content_type})
    assert (reply.status, reply.body["error"]["code"]) == (status, code)


def test_body_over_the_limit_is_413(service: Service, tenant: dict[str, str]) -> None:
    raw = json.dumps({"blob": "x" * (600 * 1024)}).encode()
    reply = service.request("POST", path(tenant), raw=raw, token=tenant["execution_token"],
                            headers={"Content-Type": "application/json"})
    assert (reply.status, reply.body["error"]["code"]) == (413, "body_too_large")


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1.5"])
def test_invalid_deadline_is_400(service: Service, tenant: dict[str, str], value: str) -> None:
    reply = execute(service, tenant, "post-login", LOGIN_EVENT,
                    headers={"X-Actions-Deadline-Ms": value})
    assert (reply.status, reply.body["error"]["code"]) == (400, "invalid_deadline")


def test_invalid_idempotency_key_is_400(service: Service, tenant: dict[str, str]) -> None:
    reply = execute(service, tenant, "post-login", LOGIN_EVENT,
                    headers={"Idempotency-Key": "x" * 300})
    assert (reply.status, reply.body["error"]["code"]) == (400, "invalid_idempotency_key")


def test_msgpack_in_and_out(service: Service, tenant: dict[str, str]) -> None:
    deploy_and_bind(service, tenant, "add-roles", ROLES_ACTION)
    bind(service, tenant, "post-login", ["add-roles"])
    reply = service.request("POST", path(tenant), raw=msgpack.packb(LOGIN_EVENT),
                            token=tenant["execution_token"],
                            headers={"Content-Type": "application/msgpack",
                                     "Accept": "application/msgpack"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/msgpack")
    body = msgpack.unpackb(reply.body)
    assert body["status"] == "success"
    assert body["effects"][0]["args"]["value"] == ["admin", "editor"]


def test_caller_deadline_shortens_the_flow(service: Service, tenant: dict[str, str]) -> None:
    """A spinning action under a 300 ms caller deadline is cut at the deadline, not at 5 s."""
    deploy_and_bind(service, tenant, "spin", "def on_execute_post_login(event, api):\n"
                    "    while True:\n        pass\n")
    bind(service, tenant, "post-login", ["spin"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT,
                    headers={"X-Actions-Deadline-Ms": "300"})
    assert reply.status in (200, 504)
    if reply.status == 200:
        assert reply.body["status"] == "failed"
        assert reply.body["actions"][0]["status"] == "timeout"
    else:
        assert reply.body["error"]["code"] == "deadline_exceeded"


def test_unknown_execution_is_404(service: Service, tenant: dict[str, str]) -> None:
    reply = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/nope",
                            token=tenant["execution_token"])
    assert (reply.status, reply.body["error"]["code"]) == (404, "execution_not_found")


@pytest.mark.parametrize("depth", [65, 500, 900])
def test_deeply_nested_event_is_400(service: Service, tenant: dict[str, str], depth: int) -> None:
    raw = ('{"user": {}, "n": ' + '{"n": ' * depth + "1" + "}" * depth + "}").encode()
    reply = service.request("POST", path(tenant), raw=raw, token=tenant["execution_token"],
                            headers={"Content-Type": "application/json"})
    assert (reply.status, reply.body["error"]["code"]) == (400, "body_too_deep")


def test_nesting_at_the_limit_runs(service: Service, tenant: dict[str, str]) -> None:
    deploy_and_bind(service, tenant, "add-roles", ROLES_ACTION)
    bind(service, tenant, "post-login", ["add-roles"])
    event = {**LOGIN_EVENT, "deep": {}}
    node = event["deep"]
    for _ in range(62):  # the body is level 1, "deep" level 2, then 62 more: 64 in all
        node["n"] = {}
        node = node["n"]
    reply = execute(service, tenant, "post-login", event)
    assert (reply.status, reply.body["status"]) == (200, "success")


@pytest.mark.parametrize("raw, code", [
    (b'{"user": {"x": 1' + b"0" * 400 + b"}}", "integer_out_of_range"),
    (b'{"user": {"x": -1' + b"0" * 30 + b"}}", "integer_out_of_range"),
    (b'{"user": {"x": "\\ud800"}}', "invalid_string"),
    (b'{"\\udfff": 1}', "invalid_string"),
])
def test_values_msgpack_cannot_carry_are_400(service: Service, tenant: dict[str, str],
                                             raw: bytes, code: str) -> None:
    reply = service.request("POST", path(tenant), raw=raw, token=tenant["execution_token"],
                            headers={"Content-Type": "application/json"})
    assert (reply.status, reply.body["error"]["code"]) == (400, code)
