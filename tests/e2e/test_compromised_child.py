"""Through the real service: an action that escaped the language layer (the test-only hook
runs it as unrestricted Python in its child) forges its reply; the answer is the worker's."""
from __future__ import annotations

from typing import Any

from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.service import Service
from worker.child import ESCAPE_MARKER

CLAIM = {"op": "id_token.set_custom_claim", "args": {"name": "https://a.example/ok", "value": 1}}


def forging(outcome: dict[str, Any]) -> str:
    """An escaped action: it replaces its child's reply. It compiles restricted too, as saved
    code must, but the hook runs it unrestricted."""
    full = {"status": "ok", "effects": [], "logs": "", "duration_ms": 0.0, "error": None, **outcome}
    return (ESCAPE_MARKER
            + f"reply = {{'op': 'result', 'job': request['job'], 'compiled': False, "
              f"'outcome': {full!r}}}\n"
            + "def on_execute_post_login(event, api):\n    pass\n")


def test_a_forged_effect_fails_the_action_and_is_counted(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "forger", forging({"effects": [
        CLAIM, {"op": "user.set_app_metadata", "args": {"name": "blocked", "value": False}}]}))
    deploy_and_bind(service, tenant, "after", "def on_execute_post_login(event, api):\n"
                    "    api.id_token.set_custom_claim('after', 1)\n")
    bind(service, tenant, "post-login", ["forger", "after"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200
    assert (reply.body["status"], reply.body["effects"]) == ("failed", [])
    forger, after = reply.body["actions"]
    assert forger["error"]["class"] == "invalid_effect"
    assert "app_metadata name 'blocked' is reserved" in forger["error"]["message"]
    assert after["status"] == "skipped"
    record = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/"
                             f"{reply.body['execution_id']}", token=tenant["management_token"])
    assert record.body["effects"] == []
    metrics = service.request("GET", "/metrics").body.decode()
    assert 'actions_action_errors_total{class="invalid_effect",trigger="post-login"}' in metrics


def test_a_forged_status_is_not_believed(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "liar", forging({
        "status": "denied", "effects": [CLAIM], "logs": "\x1b[31mred\x1b[0m"}))
    deploy_and_bind(service, tenant, "next", "def on_execute_post_login(event, api):\n"
                    "    api.id_token.set_custom_claim('next', 2)\n")
    bind(service, tenant, "post-login", ["liar", "next"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.body["status"] == "success"  # no valid access.deny: the flow goes on
    assert [e["args"]["name"] for e in reply.body["effects"]] == ["https://a.example/ok", "next"]
    assert reply.body["actions"][0]["logs"] == "\\x1b[31mred\\x1b[0m"
