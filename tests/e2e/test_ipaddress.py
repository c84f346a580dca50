"""The usual "corporate network only" action through the whole service: `ipaddress` in a
contained child, allowing 10.0.0.0/8 and denying the rest; its bombs are refused there too."""
from __future__ import annotations

import pytest

from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.service import Service

ALLOW_LIST = """
import ipaddress

CORPORATE = ipaddress.ip_network("10.0.0.0/8")


def on_execute_post_login(event, api):
    try:
        ip = ipaddress.ip_address(event.request.ip or "")
    except ValueError:
        api.access.deny("no valid client address")
        return
    if ip not in CORPORATE:
        api.access.deny("only the corporate network may sign in")
        return
    api.id_token.set_custom_claim("https://corp.example.com/network", str(CORPORATE))
"""

BOMB = """
import ipaddress


def on_execute_post_login(event, api):
    return len(list(ipaddress.ip_network("::/0").hosts()))
"""


def login_from(ip: str | None) -> dict:
    return {"user": {"user_id": "auth0|1"}, "request": {"ip": ip}}


@pytest.mark.parametrize(("ip", "status", "reason"), [
    ("10.20.30.40", "success", None),
    ("10.255.255.255", "success", None),
    ("11.0.0.1", "denied", "only the corporate network may sign in"),
    ("203.0.113.24", "denied", "only the corporate network may sign in"),
    ("::ffff:10.0.0.1", "denied", "only the corporate network may sign in"),
    ("localhost", "denied", "no valid client address"),
])
def test_corporate_network_allow_list(service: Service, tenant: dict, ip: str, status: str,
                                      reason: str | None) -> None:
    deploy_and_bind(service, tenant, "corporate-only", ALLOW_LIST)
    bind(service, tenant, "post-login", ["corporate-only"])
    reply = execute(service, tenant, "post-login", login_from(ip))
    assert reply.status == 200, reply
    assert reply.body["status"] == status, reply.body
    if reason is None:
        assert reply.body["effects"][0]["args"]["value"] == "10.0.0.0/8"
    else:
        assert reply.body["effects"][0]["op"] == "access.deny"
        assert reply.body["effects"][0]["args"]["reason"] == reason


def test_a_hosts_bomb_fails_at_once_with_a_clear_error(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "bomb", BOMB)
    bind(service, tenant, "post-login", ["bomb"])
    reply = execute(service, tenant, "post-login", login_from("10.0.0.1"))
    assert reply.status == 200, reply
    assert reply.body["status"] == "failed"
    [run] = reply.body["actions"]
    assert (run["status"], run["error"]["type"]) == ("error", "ValueError")
    assert "hosts() would yield" in run["error"]["message"]
