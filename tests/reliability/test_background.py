"""Background triggers: 202 at once, retries with backoff, then the dead-letter list."""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.e2e.test_flows import wait_final
from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.service import Service

FAILING = ("def on_execute_post_change_password(event, api):\n"
           "    raise ValueError('mail server down')\n")


@pytest.mark.reliability
@pytest.mark.timeout(120)
def test_failing_background_flow_retries_then_dead_letters(launch: Callable[..., Service]) -> None:
    """Pass: 202 within the request; the record is `pending` with attempts 1..3 while retries
    wait (backoff 0.2 s, 0.4 s), then `final` / failed with attempts 3; the tenant's dead
    letters name it with reason retries_exhausted and the action's error."""
    service = launch(workers=1, ACTIONS_BACKGROUND_BACKOFF_S="0.2")
    tenant = service.tenant("bg")
    deploy_and_bind(service, tenant, "notify", FAILING, trigger="post-change-password")
    bind(service, tenant, "post-change-password", ["notify"])
    started = time.monotonic()
    reply = execute(service, tenant, "post-change-password", LOGIN_EVENT)
    assert reply.status == 202
    assert reply.body["status"] == "pending"
    seen_states = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        record = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/"
                                 f"{reply.body['execution_id']}", token=tenant["execution_token"])
        seen_states.add((record.body["state"], record.body.get("attempts")))
        if record.body["state"] == "final":
            break
        time.sleep(0.05)
    final = wait_final(service, tenant, reply.body["execution_id"])
    assert (final["status"], final["attempts"]) == ("failed", 3)
    assert ("pending", 1) in seen_states or ("pending", 2) in seen_states
    assert time.monotonic() - started >= 0.6  # both backoffs were waited
    letters = service.request("GET", f"/v1/tenants/{tenant['id']}/dead-letters",
                              token=tenant["management_token"]).body["dead_letters"]
    assert [(d["execution_id"], d["reason"], d["attempts"]) for d in letters] == [
        (reply.body["execution_id"], "retries_exhausted", 3)]
    assert (letters[0]["error"]["type"], letters[0]["error"]["message"]) == (
        "ValueError", "mail server down")


@pytest.mark.reliability
@pytest.mark.timeout(120)
def test_caller_cannot_lengthen_the_deadline(launch: Callable[..., Service]) -> None:
    """Pass: with a 1 s flow deadline, a caller asking for 60 s still has a spinning action
    cut at about 1 s (answered within deadline + grace + margin)."""
    service = launch(workers=1, ACTIONS_FLOW_DEADLINE_S="1", ACTIONS_ACTION_TIMEOUT_S="5")
    tenant = service.tenant("clamp")
    deploy_and_bind(service, tenant, "spin", "def on_execute_post_login(event, api):\n"
                    "    while True:\n        pass\n")
    bind(service, tenant, "post-login", ["spin"])
    started = time.monotonic()
    reply = execute(service, tenant, "post-login", LOGIN_EVENT,
                    headers={"X-Actions-Deadline-Ms": "60000"})
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 0.5 + 2.0
    assert reply.status in (200, 504)
    if reply.status == 200:
        assert reply.body["actions"][0]["status"] == "timeout"
