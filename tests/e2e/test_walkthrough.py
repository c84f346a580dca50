"""The README's walk-through, over HTTP against real gateway, worker and redis-server processes."""
from __future__ import annotations

from tests.service import Service

ROLES_ACTION = '''
def on_execute_post_login(event, api):
    namespace = "https://my-app.example.com"
    if event.authorization:
        api.id_token.set_custom_claim(namespace + "/roles", event.authorization.roles)
'''

LOGIN_EVENT = {
    "user": {"user_id": "auth0|1", "email": "ada@example.com", "app_metadata": {}},
    "authorization": {"roles": ["admin", "editor"]},
}


def deploy_and_bind(service: Service, tenant: dict[str, str], name: str, code: str,
                    trigger: str = "post-login", secrets: list | None = None) -> dict:
    base = f"/v1/tenants/{tenant['id']}"
    token = tenant["management_token"]
    created = service.request("POST", f"{base}/actions", {
        "name": name, "supported_triggers": [{"id": trigger}], "code": code,
        "secrets": secrets or []}, token=token)
    assert created.status == 201, created
    action = created.body
    deployed = service.request("POST", f"{base}/actions/{action['id']}/deploy", token=token)
    assert deployed.status == 201, deployed
    return action


def bind(service: Service, tenant: dict[str, str], trigger: str, names: list[str]) -> None:
    reply = service.request(
        "PATCH", f"/v1/tenants/{tenant['id']}/triggers/{trigger}/bindings",
        {"bindings": [{"ref": {"type": "action_name", "value": n}, "display_name": n} for n in names]},
        token=tenant["management_token"])
    assert reply.status == 200, reply


def execute(service: Service, tenant: dict[str, str], trigger: str, event: dict, **kw):
    return service.request("POST", f"/v1/tenants/{tenant['id']}/triggers/{trigger}/execute",
                           event, token=tenant["execution_token"], **kw)


def test_claim_comes_back(service: Service, tenant: dict[str, str]) -> None:
    deploy_and_bind(service, tenant, "add-roles", ROLES_ACTION)
    bind(service, tenant, "post-login", ["add-roles"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200, reply
    assert reply.body["status"] == "success"
    assert reply.body["trigger"] == "post-login"
    assert reply.body["effects"] == [{
        "op": "id_token.set_custom_claim",
        "args": {"name": "https://my-app.example.com/roles", "value": ["admin", "editor"]},
        "action": "add-roles", "version": 1,
    }]
    [run] = reply.body["actions"]
    assert (run["name"], run["version"], run["status"]) == ("add-roles", 1, "ok")
    record = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/"
                             f"{reply.body['execution_id']}", token=tenant["execution_token"])
    assert record.status == 200
    assert record.body["effects"] == reply.body["effects"]


def test_no_bindings_is_success_without_effects(service: Service, tenant: dict[str, str]) -> None:
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200
    assert (reply.body["status"], reply.body["effects"], reply.body["actions"]) == ("success", [], [])


def test_new_deploy_is_visible_to_next_execution(service: Service, tenant: dict[str, str]) -> None:
    action = deploy_and_bind(service, tenant, "flag", "def on_execute_post_login(event, api):\n"
                             "    api.access_token.set_custom_claim('v', 1)\n")
    bind(service, tenant, "post-login", ["flag"])
    first = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert first.body["effects"][0]["args"] == {"name": "v", "value": 1}
    base = f"/v1/tenants/{tenant['id']}/actions/{action['id']}"
    token = tenant["management_token"]
    patched = service.request("PATCH", base, {"code": "def on_execute_post_login(event, api):\n"
                              "    api.access_token.set_custom_claim('v', 2)\n"}, token=token)
    assert patched.status == 200, patched
    assert service.request("POST", f"{base}/deploy", token=token).status == 201
    second = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert second.body["effects"][0]["args"] == {"name": "v", "value": 2}
    assert second.body["effects"][0]["version"] == 2
