"""CPU and memory bombs sent through the service: answered within limit + grace, then business as usual."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import RedisServer, free_port
from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.reliability import faults
from tests.service import Service, start_service

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

ACTION_TIMEOUT_S = 1.0
KILL_GRACE_S = 0.5
# Queue, fork of a fresh child, HTTP: generous, since the machine may be busy with other tests.
MARGIN_S = 3.0

BOMBS = [
    ("x = 10 ** 10 ** 10", "memory_limit", "memory_limit"),
    ("while True:\n        pass", "timeout", "action_timeout"),
    # Tries to swallow the polite alarm (the guest cannot catch it past its deadline).
    (("while True:\n        try:\n            while True:\n                pass\n"
      "        except BaseException:\n            pass"), "timeout", "action_timeout"),
    ("x = bytearray(10 ** 10)", "memory_limit", "memory_limit"),
    ("x = []\n    while True:\n        x.append('a' * 100000)", "memory_limit", "memory_limit"),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        svc = start_service(server.url, tmp_path_factory.mktemp("var"), free_port(), workers=1,
                            extra_env={
                                "ACTIONS_ACTION_TIMEOUT_S": str(ACTION_TIMEOUT_S),
                                "ACTIONS_KILL_GRACE_S": str(KILL_GRACE_S),
                                "ACTIONS_FLOW_DEADLINE_S": "5",
                                "ACTIONS_MEMORY_LIMIT_BYTES": str(128 * 1024 * 1024)})
        try:
            yield svc
        finally:
            svc.stop()
    finally:
        server.stop()


@pytest.mark.parametrize(("body", "status", "error_class"), BOMBS)
def test_bomb_is_stopped_and_next_request_succeeds(
        service: Service, body: str, status: str, error_class: str) -> None:
    """Pass: the bomb's request is answered 200 within action limit + grace + margin with flow
    status failed and action status `status` / error class `error_class`; a benign action of the
    same tenant deployed next runs with status success."""
    tenant = service.tenant(f"bomb-{BOMBS.index((body, status, error_class))}")
    deploy_and_bind(service, tenant, "bomb", f"def on_execute_post_login(event, api):\n    {body}\n")
    bind(service, tenant, "post-login", ["bomb"])
    started = time.monotonic()
    reply = execute(service, tenant, "post-login", faults.LOGIN_EVENT)
    elapsed_s = time.monotonic() - started
    print(f"{body!r}: answered in {elapsed_s:.2f} s")
    assert reply.status == 200, reply
    assert reply.body["status"] == "failed"
    [action] = reply.body["actions"]
    assert (action["status"], action["error"]["class"]) == (status, error_class)
    assert elapsed_s < ACTION_TIMEOUT_S + KILL_GRACE_S + MARGIN_S

    deploy_and_bind(service, tenant, "light", faults.LIGHT_ACTION)
    bind(service, tenant, "post-login", ["light"])
    after = execute(service, tenant, "post-login", faults.LOGIN_EVENT)
    assert (after.status, after.body["status"]) == (200, "success")
    assert [e["args"] for e in after.body["effects"]] == [{"name": "light", "value": True}]
