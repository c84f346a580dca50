"""Random, type-confused bodies against every writable endpoint: each gets a 2xx or a 4xx.

A fixed seed keeps it repeatable; a 5xx anywhere (an unhandled exception) fails the test.
"""
from __future__ import annotations

import json
import random

from tests.e2e.test_walkthrough import bind, deploy_and_bind
from tests.service import Service

VALUES = [
    None, True, 0, -1, 2**63 - 1, 1.5, "", "x" * 300, "é", "\u0000", [], [1], {}, {"a": 1},
    [{"ref": {"type": "action_name", "value": "a"}}], {"id": "post-login"},
    [{"id": "post-login"}], [{"name": "K", "value": "v"}], [{"name": "K", "value": None}],
    "def on_execute_post_login(event, api):\n    pass\n", {"user": {"email": [None]}},
]
FIELDS = ["name", "supported_triggers", "code", "secrets", "bindings", "event", "trigger_id",
          "handler", "on_error", "action_timeout_s", "flow_deadline_s", "max_inflight", "id",
          "user", "authorization"]
REQUESTS = 500


def test_no_body_gets_a_server_error(service: Service, tenant: dict) -> None:
    rnd = random.Random(7)
    action = deploy_and_bind(service, tenant, "a",
                             "def on_execute_post_login(event, api):\n    pass\n")
    bind(service, tenant, "post-login", ["a"])
    t, a = tenant["id"], action["id"]
    admin, management = service.admin_token, tenant["management_token"]
    targets = [
        ("POST", f"/v1/tenants/{t}/actions", management),
        ("PATCH", f"/v1/tenants/{t}/actions/{a}", management),
        ("POST", f"/v1/tenants/{t}/actions/{a}/test", management),
        ("PATCH", f"/v1/tenants/{t}/triggers/post-login/bindings", management),
        ("PATCH", f"/v1/tenants/{t}/triggers/post-login/settings", management),
        ("POST", f"/v1/tenants/{t}/actions/{a}/versions/1/deploy", management),
        ("POST", f"/v1/tenants/{t}/triggers/post-login/execute", tenant["execution_token"]),
        ("POST", f"/v1/tenants/{t}/triggers/post-user-registration/execute",
         tenant["execution_token"]),
        ("PATCH", f"/v1/tenants/{t}/limits", admin),
        ("POST", "/v1/tenants", admin),
        ("GET", f"/v1/tenants/{t}/actions?trigger_id=%00&name=" + "x" * 500, management),
        ("GET", f"/v1/tenants/{t}/actions/{a}/versions/99999999999999999999", management),
        ("DELETE", f"/v1/tenants/{t}/actions/nope?force=maybe", management),
    ]
    failures = []
    for _ in range(REQUESTS):
        method, path, token = rnd.choice(targets)
        body = {f: rnd.choice(VALUES) for f in rnd.sample(FIELDS, rnd.randint(0, 4))}
        reply = service.request(method, path, None if method in ("GET", "DELETE") else body,
                                token=token, headers={"X-Actions-Deadline-Ms": "2000"})
        if reply.status >= 500 and reply.body.get("error", {}).get("code") != "deadline_exceeded":
            failures.append((method, path, json.dumps(body)[:200], reply.status, reply.body))
    assert failures == []
