"""fetch() end to end: HTTP -> gateway -> Redis -> worker -> sandbox child -> worker's egress ->
a local remote on 127.0.0.1, with the operator's loopback allowance (and a second service
without it). The examples that call providers run against the same remote."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RedisServer, free_port
from tests.e2e.test_flows import wait_final
from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.remote import Remote, RemoteThread
from tests.service import Service, start_service
from worker.child import ESCAPE_MARKER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def remote_server() -> Iterator[Remote]:
    thread = RemoteThread()
    yield thread.start()
    thread.stop()


@pytest.fixture
def remote(remote_server: Remote) -> Remote:
    remote_server.hits.clear()
    remote_server.seen.clear()
    return remote_server


def _service(redis_server: RedisServer, tmp: pytest.TempPathFactory, db: int,
             env: dict[str, str]) -> Service:
    return start_service(f"redis://127.0.0.1:{redis_server.port}/{db}", tmp.mktemp("var"),
                         free_port(), workers=1,
                         extra_env={"ACTIONS_WORKER_SLOTS": "2", **env})


@pytest.fixture(scope="module")
def egress_service(redis_server: RedisServer,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Loopback allowed (the operator flag), so the local remote can play the internet."""
    svc = _service(redis_server, tmp_path_factory, 4, {
        "ACTIONS_EGRESS_ALLOW_LOOPBACK": "1", "ACTIONS_INSECURE_TEST_ESCAPE_HOOK": "1"})
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def strict_service(redis_server: RedisServer,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The default: loopback refused like every other private address."""
    svc = _service(redis_server, tmp_path_factory, 5, {})
    yield svc
    svc.stop()


def new_tenant(service: Service) -> dict[str, str]:
    return service.tenant("f-" + uuid.uuid4().hex[:12])


def allow(service: Service, tenant: dict[str, str], hosts: list[str]) -> None:
    reply = service.request("PUT", f"/v1/tenants/{tenant['id']}/egress",
                            {"allowed_hosts": hosts}, token=tenant["management_token"])
    assert reply.status == 200, reply


def login_action(body: str) -> str:
    lines = "\n".join("    " + line for line in body.splitlines())
    return f"def on_execute_post_login(event, api):\n{lines}\n"


def run_login(service: Service, tenant: dict[str, str], body: str,
              secrets: list | None = None) -> dict[str, Any]:
    name = "a" + uuid.uuid4().hex[:8]
    deploy_and_bind(service, tenant, name, login_action(body), secrets=secrets)
    bind(service, tenant, "post-login", [name])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200, reply
    return reply.body  # type: ignore[no-any-return]


def catching(call: str) -> str:
    return f"try:\n    {call}\n    print('ok')\nexcept FetchError as e:\n    print(e.reason)"


def record_of(service: Service, tenant: dict[str, str], result: dict[str, Any]) -> dict:
    reply = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/"
                            f"{result['execution_id']}", token=tenant["management_token"])
    assert reply.status == 200, reply
    return reply.body  # type: ignore[no-any-return]


def test_an_allowed_host_works_and_the_record_lists_the_call(egress_service: Service,
                                                             remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    result = run_login(egress_service, tenant, (
        f"r = fetch('{remote.url}/echo?api_key=' + event.secrets.KEY, method='POST',\n"
        "          json={'password': 'hunter2'}, headers={'X-Token': event.secrets.KEY})\n"
        "api.id_token.set_custom_claim('https://a.example/echo', r.json()['method'])"),
        secrets=[{"name": "KEY", "value": "k-s3cr3t"}])
    assert result["status"] == "success", result
    assert result["effects"][0]["args"]["value"] == "POST"
    [seen] = remote.seen
    assert (seen["query"], seen["body"]) == ("api_key=k-s3cr3t", '{"password":"hunter2"}')
    record = record_of(egress_service, tenant, result)
    [call] = record["actions"][0]["fetches"]
    assert {k: call[k] for k in ("method", "scheme", "host", "port", "path", "status", "error")} \
        == {"method": "POST", "scheme": "http", "host": "127.0.0.1", "port": remote.port,
            "path": "/echo", "status": 200, "error": None}
    assert call["bytes"] > 0
    text = json.dumps(record)
    assert "k-s3cr3t" not in text and "hunter2" not in text  # no queries, bodies, header values
    assert result["actions"][0]["fetches"] == record["actions"][0]["fetches"]


def test_another_host_and_a_tenant_without_egress_are_refused(egress_service: Service,
                                                              remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    other = f"http://localhost:{remote.port}/echo"
    result = run_login(egress_service, tenant, f"fetch('{remote.url}/echo')")
    assert result["status"] == "failed"
    error = result["actions"][0]["error"]
    assert (error["class"], error["type"]) == ("action_error", "FetchError")
    assert "is not on this tenant's egress allow-list (host_not_allowed)" in error["message"]
    allow(egress_service, tenant, [remote.url])  # the next execution sees it, no restart
    result = run_login(egress_service, tenant,
                       catching(f"fetch('{remote.url}/echo')") + "\n" + catching(f"fetch('{other}')"))
    assert result["actions"][0]["logs"] == "ok\nhost_not_allowed\n"
    assert remote.hits == {"/echo": 1}
    stranger = new_tenant(egress_service)  # another tenant's list is not this one's
    result = run_login(egress_service, stranger, catching(f"fetch('{remote.url}/echo')"))
    assert result["actions"][0]["logs"] == "host_not_allowed\n"
    assert remote.hits == {"/echo": 1}


def test_loopback_is_refused_without_the_operator_flag(strict_service: Service,
                                                       remote: Remote) -> None:
    tenant = new_tenant(strict_service)
    allow(strict_service, tenant, [remote.url, f"http://localhost:{remote.port}"])
    result = run_login(strict_service, tenant,
                       catching(f"fetch('{remote.url}/echo')") + "\n"
                       + catching(f"fetch('http://localhost:{remote.port}/echo')"))
    assert result["actions"][0]["logs"] == "address_not_allowed\naddress_not_allowed\n"
    assert remote.hits == {}


def test_redirects_to_refused_hosts_and_to_redis_are_refused(
        egress_service: Service, remote: Remote, redis_server: RedisServer) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    to_redis = f"{remote.url}/redirect?to=http://127.0.0.1:{redis_server.port}/"
    to_other = f"{remote.url}/redirect?status=307&to=http://localhost:{remote.port}/echo"
    result = run_login(egress_service, tenant,
                       catching(f"fetch('{to_redis}', method='POST', data='FLUSHALL')") + "\n"
                       + catching(f"fetch('{to_other}')"))
    assert result["actions"][0]["logs"] == "host_not_allowed\nhost_not_allowed\n"
    hops = [(f["host"], f["port"], f["status"], f["error"])
            for f in result["actions"][0]["fetches"]]
    assert hops == [("127.0.0.1", remote.port, 302, None),
                    ("127.0.0.1", redis_server.port, None, "host_not_allowed"),
                    ("127.0.0.1", remote.port, 307, None),
                    ("localhost", remote.port, None, "host_not_allowed")]
    assert remote.hits.get("/echo", 0) == 0


def test_a_slow_server_is_cut_at_the_deadline(egress_service: Service, remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    limits = egress_service.request("PATCH", f"/v1/tenants/{tenant['id']}/limits",
                                    {"action_timeout_s": 1}, token=egress_service.admin_token)
    assert limits.status == 200, limits
    # The remote answers after 60 s; the action's own time (1 s) ends the request first.
    result = run_login(egress_service, tenant, f"fetch('{remote.url}/slow')")
    assert result["status"] == "failed"
    error = result["actions"][0]["error"]
    assert (error["class"], error["type"]) == ("action_error", "FetchError")
    assert error["message"].endswith("(timeout)")
    assert [f["error"] for f in result["actions"][0]["fetches"]] == ["timeout"]


def test_an_oversized_body_is_cut(egress_service: Service, remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    result = run_login(egress_service, tenant, catching(f"fetch('{remote.url}/big')") + "\n"
                       + catching(f"fetch('{remote.url}/big-chunked')"))
    assert result["actions"][0]["logs"] == "too_large\ntoo_large\n"


def test_the_21st_request_is_refused(egress_service: Service, remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    result = run_login(egress_service, tenant,
                       "for i in range(25):\n    " + catching(f"fetch('{remote.url}/echo')")
                       .replace("\n", "\n    "))
    assert result["actions"][0]["logs"] == "ok\n" * 20 + "too_many_requests\n" * 5
    assert remote.hits == {"/echo": 20}
    assert len(result["actions"][0]["fetches"]) == 21  # the child stopped asking after that


def test_an_escaped_action_cannot_pass_the_cap_or_forge_its_record(egress_service: Service,
                                                                   remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    frame = ("protocol.write_frame_fd(fd, {'op': 'fetch', 'job': request['job'], "
             f"'request': {{'url': '{remote.url}/echo'}}}})\nprotocol.read_frame_fd(fd)\n")
    code = (ESCAPE_MARKER + "for i in range(30):\n" + "".join("    " + line + "\n" for line in
                                                             frame.splitlines())
            + "def on_execute_post_login(event, api):\n    pass\n")
    deploy_and_bind(egress_service, tenant, "escaped", code)
    bind(egress_service, tenant, "post-login", ["escaped"])
    result = execute(egress_service, tenant, "post-login", LOGIN_EVENT).body
    assert result["status"] == "failed"
    error = result["actions"][0]["error"]
    assert error["class"] == "crashed"
    assert "fetch frames after too_many_requests" in error["message"]
    assert remote.hits == {"/echo": 20}
    assert len(result["actions"][0]["fetches"]) == 21


def _example(trigger: str) -> str:
    return (EXAMPLES / "actions" / f"{trigger}.py").read_text()


def _event(trigger: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "events" / f"{trigger}.json").read_text())  # type: ignore[no-any-return]


def _run_example(service: Service, tenant: dict[str, str], trigger: str,
                 secrets: dict[str, str]) -> dict[str, Any]:
    deploy_and_bind(service, tenant, trigger, _example(trigger), trigger=trigger,
                    secrets=[{"name": k, "value": v} for k, v in secrets.items()])
    bind(service, tenant, trigger, [trigger])
    reply = execute(service, tenant, trigger, _event(trigger))
    if reply.status == 202:
        return wait_final(service, tenant, reply.body["execution_id"])
    assert reply.status == 200, reply
    return reply.body  # type: ignore[no-any-return]


def test_the_sms_example_calls_its_provider(egress_service: Service, remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    result = _run_example(egress_service, tenant, "send-phone-message", {
        "SMS_PROVIDER_URL": f"{remote.url}/provider/sms", "SMS_API_KEY": "sms-key"})
    assert result["status"] == "success", result
    [seen] = remote.seen
    assert seen["method"] == "POST" and seen["path"] == "/provider/sms"
    assert seen["headers"]["authorization"] == "Bearer sms-key"
    assert json.loads(seen["body"]) == {"to": "+15555550101", "channel": "sms",
                                        "body": "Your verification code is 123456"}
    assert result["actions"][0]["logs"] == "sent sms to +15555550101 as msg-1\n"
    assert "123456" not in json.dumps(record_of(egress_service, tenant, result))


def test_the_welcome_email_example_calls_its_provider(egress_service: Service,
                                                      remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    record = _run_example(egress_service, tenant, "post-user-registration", {
        "EMAIL_API_URL": f"{remote.url}/provider/email", "EMAIL_API_KEY": "mail-key"})
    assert record["status"] == "success", record
    [seen] = remote.seen
    assert seen["headers"]["idempotency-key"] == "welcome-auth0|65a1f0c2d4e8b9a7c3f10002"
    assert json.loads(seen["body"]) == {"to": "grace.hopper@example.com", "template": "welcome",
                                        "variables": {"name": "Grace Hopper"}}
    assert record["actions"][0]["logs"] == "sent welcome email to grace.hopper@example.com\n"
    assert [f["status"] for f in record["actions"][0]["fetches"]] == [201]


def test_the_password_change_example_notifies(egress_service: Service, remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    record = _run_example(egress_service, tenant, "post-change-password", {
        "NOTIFY_URL": f"{remote.url}/provider/notify", "NOTIFY_API_KEY": "k"})
    assert record["status"] == "success", record
    [seen] = remote.seen
    assert json.loads(seen["body"])["template"] == "password-changed"


def test_the_enrichment_example_enriches_the_profile(egress_service: Service,
                                                     remote: Remote) -> None:
    tenant = new_tenant(egress_service)
    allow(egress_service, tenant, [remote.url])
    result = _run_example(egress_service, tenant, "post-login", {
        "PROFILE_API_URL": f"{remote.url}/profile", "PROFILE_API_KEY": "profile-key"})
    assert result["status"] == "success", result
    assert remote.hits == {"/profile/auth0|65a1f0c2d4e8b9a7c3f10001": 1}  # the path, decoded
    ops = {(e["op"], e["args"].get("name")): e["args"].get("value") for e in result["effects"]}
    assert ops[("user.set_app_metadata", "plan")] == "gold"
    assert ops[("id_token.set_custom_claim", "https://my-app.example.com/plan")] == "gold"
    wrong_key = new_tenant(egress_service)  # the API refuses: the login still goes on
    allow(egress_service, wrong_key, [remote.url])
    result = _run_example(egress_service, wrong_key, "post-login", {
        "PROFILE_API_URL": f"{remote.url}/profile", "PROFILE_API_KEY": "wrong"})
    assert result["status"] == "success"
    assert "profile API answered 401\n" in result["actions"][0]["logs"]
    refused = new_tenant(egress_service)  # no egress: the same
    result = _run_example(egress_service, refused, "post-login", {
        "PROFILE_API_URL": f"{remote.url}/profile"})
    assert result["status"] == "success"
    assert "profile API unavailable: host_not_allowed\n" in result["actions"][0]["logs"]
