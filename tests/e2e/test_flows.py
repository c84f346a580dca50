"""Flow semantics through the whole service: order, deny, failure, metadata, secrets, cache."""
from __future__ import annotations

import time

from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.service import Service

SET_META = ("def on_execute_post_login(event, api):\n"
            "    api.user.set_app_metadata('plan', 'gold')\n")
READ_META = ("def on_execute_post_login(event, api):\n"
             "    api.id_token.set_custom_claim('plan', event.user.app_metadata.plan)\n")
DENY = ("def on_execute_post_login(event, api):\n"
        "    api.access.deny('blocked')\n"
        "    api.id_token.set_custom_claim('after_deny', True)\n")
CLAIM = "def on_execute_post_login(event, api):\n    api.id_token.set_custom_claim('{0}', 1)\n"
BOOM = ("def on_execute_post_login(event, api):\n"
        "    api.id_token.set_custom_claim('lost', 1)\n"
        "    print('about to fail')\n"
        "    return {}['missing']\n")


def test_metadata_set_by_one_action_is_seen_by_the_next(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "set-meta", SET_META)
    deploy_and_bind(service, tenant, "read-meta", READ_META)
    bind(service, tenant, "post-login", ["set-meta", "read-meta"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["status"] == "success"
    assert [e["op"] for e in reply.body["effects"]] == [
        "user.set_app_metadata", "id_token.set_custom_claim"]
    assert reply.body["effects"][1]["args"] == {"name": "plan", "value": "gold"}


def test_deny_finishes_the_action_and_skips_the_rest(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "first", CLAIM.format("first"))
    deploy_and_bind(service, tenant, "deny", DENY)
    deploy_and_bind(service, tenant, "never", CLAIM.format("never"))
    bind(service, tenant, "post-login", ["first", "deny", "never"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["status"] == "denied"
    assert [a["status"] for a in reply.body["actions"]] == ["ok", "denied", "skipped"]
    assert [(e["action"], e["op"]) for e in reply.body["effects"]] == [
        ("first", "id_token.set_custom_claim"), ("deny", "access.deny"),
        ("deny", "id_token.set_custom_claim")]


def test_error_fails_the_flow_keeping_earlier_effects(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "first", CLAIM.format("first"))
    deploy_and_bind(service, tenant, "boom", BOOM)
    deploy_and_bind(service, tenant, "never", CLAIM.format("never"))
    bind(service, tenant, "post-login", ["first", "boom", "never"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["status"] == "failed"
    assert [a["status"] for a in reply.body["actions"]] == ["ok", "error", "skipped"]
    assert [e["action"] for e in reply.body["effects"]] == ["first"]
    failed = reply.body["actions"][1]
    assert failed["error"]["class"] == "action_error"
    assert failed["error"]["type"] == "KeyError"
    assert failed["error"]["line"] == 4
    assert "about to fail" in failed["logs"]


def test_secrets_reach_the_action_and_never_the_api(service: Service, tenant: dict) -> None:
    code = ("def on_execute_post_login(event, api):\n"
            "    api.access_token.set_custom_claim('k', event.secrets.API_KEY[:3])\n")
    action = deploy_and_bind(service, tenant, "secretive", code,
                             secrets=[{"name": "API_KEY", "value": "xyz-123"}])
    bind(service, tenant, "post-login", ["secretive"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["effects"][0]["args"] == {"name": "k", "value": "xyz"}
    shown = service.request("GET", f"/v1/tenants/{tenant['id']}/actions/{action['id']}",
                            token=tenant["management_token"])
    assert "xyz-123" not in str(shown.body)
    assert shown.body["secrets"][0]["name"] == "API_KEY"


def test_cache_persists_between_executions(service: Service, tenant: dict) -> None:
    code = ("def on_execute_post_login(event, api):\n"
            "    seen = api.cache.get('count')\n"
            "    n = seen['value'] + 1 if seen else 1\n"
            "    api.cache.set('count', n)\n"
            "    api.id_token.set_custom_claim('count', n)\n")
    deploy_and_bind(service, tenant, "counter", code)
    bind(service, tenant, "post-login", ["counter"])
    counts = []
    for _ in range(3):
        reply = execute(service, tenant, "post-login", LOGIN_EVENT)
        counts.append(next(e for e in reply.body["effects"]
                           if e["op"] == "id_token.set_custom_claim")["args"]["value"])
    assert counts == [1, 2, 3]


def test_test_run_uses_the_undeployed_draft(service: Service, tenant: dict) -> None:
    base = f"/v1/tenants/{tenant['id']}"
    token = tenant["management_token"]
    created = service.request("POST", f"{base}/actions", {
        "name": "draft", "supported_triggers": [{"id": "post-login"}],
        "code": CLAIM.format("drafted")}, token=token)
    reply = service.request("POST", f"{base}/actions/{created.body['id']}/test",
                            {"event": LOGIN_EVENT}, token=token)
    assert reply.status == 200, reply
    assert reply.body["status"] == "success"
    assert reply.body["effects"][0]["args"] == {"name": "drafted", "value": 1}
    assert reply.body["actions"][0]["version"] is None


def test_test_run_errors(service: Service, tenant: dict) -> None:
    base = f"/v1/tenants/{tenant['id']}"
    token = tenant["management_token"]
    missing = service.request("POST", f"{base}/actions/nope/test", {"event": {}}, token=token)
    assert missing.status == 404
    created = service.request("POST", f"{base}/actions", {
        "name": "x", "supported_triggers": [{"id": "post-login"}], "code": CLAIM.format("x")},
        token=token)
    url = f"{base}/actions/{created.body['id']}/test"
    bad_event = service.request("POST", url, {"event": [1]}, token=token)
    assert (bad_event.status, bad_event.body["error"]["code"]) == (400, "invalid_event")
    other = service.request("POST", url, {"event": {}, "trigger_id": "credentials-exchange"},
                            token=token)
    assert (other.status, other.body["error"]["code"]) == (422, "trigger_not_supported")
    exec_token = service.request("POST", url, {"event": {}}, token=tenant["execution_token"])
    assert exec_token.status == 403


def wait_final(service: Service, tenant: dict, execution_id: str, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reply = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/{execution_id}",
                                token=tenant["execution_token"])
        if reply.status == 200 and reply.body["state"] == "final":
            return reply.body
        time.sleep(0.1)
    raise AssertionError(f"execution {execution_id} did not finish")


def test_background_trigger_answers_202_then_runs(service: Service, tenant: dict) -> None:
    code = ("def on_execute_post_user_registration(event, api):\n"
            "    print('welcome', event.user.email)\n")
    deploy_and_bind(service, tenant, "welcome", code, trigger="post-user-registration")
    bind(service, tenant, "post-user-registration", ["welcome"])
    reply = execute(service, tenant, "post-user-registration", LOGIN_EVENT)
    assert reply.status == 202
    assert reply.body["status"] == "pending"
    record = wait_final(service, tenant, reply.body["execution_id"])
    assert record["status"] == "success"
    assert record["actions"][0]["logs"] == "welcome ada@example.com\n"


def test_failure_policy_per_trigger(service: Service, tenant: dict) -> None:
    """fail_closed (default) answers failed; fail_open answers success; both say which applied."""
    deploy_and_bind(service, tenant, "first", CLAIM.format("first"))
    deploy_and_bind(service, tenant, "boom", BOOM)
    bind(service, tenant, "post-login", ["first", "boom"])
    closed = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert closed.body["status"] == "failed"
    assert closed.body["on_error"] == {"policy": "fail_closed", "applied": True}
    url = f"/v1/tenants/{tenant['id']}/triggers/post-login/settings"
    token = tenant["management_token"]
    patched = service.request("PATCH", url, {"on_error": "fail_open"}, token=token)
    assert patched.body == {"trigger_id": "post-login", "on_error": "fail_open"}
    time.sleep(2.1)  # gateways trust cached tenant settings for up to 2 s
    opened = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert opened.body["status"] == "success"
    assert opened.body["on_error"] == {"policy": "fail_open", "applied": True}
    assert [e["action"] for e in opened.body["effects"]] == ["first"]
    assert [a["status"] for a in opened.body["actions"]] == ["ok", "error"]


def test_trigger_settings_errors(service: Service, tenant: dict) -> None:
    base = f"/v1/tenants/{tenant['id']}/triggers"
    token = tenant["management_token"]
    bad = service.request("PATCH", f"{base}/post-login/settings", {"on_error": "maybe"}, token=token)
    assert (bad.status, bad.body["error"]["code"]) == (422, "invalid_on_error")
    extra = service.request("PATCH", f"{base}/post-login/settings", {"x": 1}, token=token)
    assert (extra.status, extra.body["error"]["code"]) == (422, "unknown_field")
    unknown = service.request("GET", f"{base}/nope/settings", token=token)
    assert unknown.status == 404
    as_exec = service.request("GET", f"{base}/post-login/settings", token=tenant["execution_token"])
    assert as_exec.status == 403
    assert service.request("GET", f"{base}/post-login/settings", token=token).body == {
        "trigger_id": "post-login", "on_error": "fail_closed"}


def test_admin_sets_tenant_limits(service: Service, tenant: dict) -> None:
    """A tenant whose action limit is 0.2 s: a 1 s spin times out at that limit."""
    url = f"/v1/tenants/{tenant['id']}/limits"
    admin = service.admin_token
    patched = service.request("PATCH", url, {"action_timeout_s": 0.2}, token=admin)
    assert patched.status == 200, patched
    assert patched.body["action_timeout_s"] == 0.2
    for body, code in (({"action_timeout_s": 99}, "invalid_limit"),
                       ({"max_inflight": 1.5}, "invalid_limit"),
                       ({"flow_deadline_s": True}, "invalid_limit"),
                       ({"speed": 1}, "unknown_field")):
        reply = service.request("PATCH", url, body, token=admin)
        assert (reply.status, reply.body["error"]["code"]) == (422, code), body
    assert service.request("PATCH", url, {"max_inflight": 3},
                           token=tenant["management_token"]).status == 401
    assert service.request("GET", "/v1/tenants/nope/limits", token=admin).status == 404
    deploy_and_bind(service, tenant, "spin", "def on_execute_post_login(event, api):\n"
                    "    while True:\n        pass\n")
    bind(service, tenant, "post-login", ["spin"])
    time.sleep(2.1)
    started = time.monotonic()
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["actions"][0]["status"] == "timeout"
    assert time.monotonic() - started < 0.2 + 0.5 + 2.0  # limit + kill grace + generous margin
