"""SIGTERM drains: a gateway finishes what it accepted and refuses more; a worker finishes its job."""
from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from runtime import keys
from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.reliability import faults
from tests.service import Service

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

IN_FLIGHT = 8
ENV = {"ACTIONS_ACTION_TIMEOUT_S": "3", "ACTIONS_FLOW_DEADLINE_S": "15",
       "ACTIONS_WORKER_SLOTS": "2", "ACTIONS_TENANT_MAX_INFLIGHT": str(IN_FLIGHT)}


def waiting_requests(service: Service) -> int:
    metrics = service.request("GET", "/metrics").body.decode()
    [line] = [m for m in metrics.splitlines() if m.startswith("actions_waiting_requests ")]
    return int(float(line.split()[1]))


def connect_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_gateway_sigterm_finishes_accepted_requests(launch: Callable[..., Service]) -> None:
    """Pass: SIGTERM while IN_FLIGHT requests (0.5 s busy loops, 4 slots) are waiting -> new
    connections are refused while it still drains, every accepted request gets 200 success, and
    the gateway exits 0."""
    service = launch(workers=2, **ENV)
    tenant = service.tenant("drain")
    deploy_and_bind(service, tenant, "spin", faults.spin_action(0.5))
    bind(service, tenant, "post-login", ["spin"])
    port = int(service.base_url.rsplit(":", 1)[1])
    gateway = service.gateway
    assert gateway is not None
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        replies = [pool.submit(execute, service, tenant, "post-login", faults.LOGIN_EVENT)
                   for _ in range(IN_FLIGHT)]
        # Every request accepted: each is either waiting in the gateway or already answered.
        faults.wait_for(lambda: waiting_requests(service) + sum(r.done() for r in replies)
                        == IN_FLIGHT and not all(r.done() for r in replies), 10,
                        "every request to be accepted")
        gateway.send_signal(signal.SIGTERM)
        faults.wait_for(lambda: connect_refused(port), 2, "the listener to close")
        still_draining = gateway.poll() is None
        results = [r.result(timeout=30) for r in replies]
    assert still_draining, "the gateway exited before its accepted requests could finish"
    assert [(r.status, r.body["status"]) for r in results] == [(200, "success")] * IN_FLIGHT
    assert gateway.wait(20) == 0


def test_worker_sigterm_finishes_its_job_and_leaves(
        launch: Callable[..., Service], own_client: redis.Redis) -> None:
    """Pass: SIGTERM to the worker running a 1.5 s job -> the caller gets 200 success from that
    same worker, the worker exits 0, and its consumer is gone from the group with nothing
    pending (XPENDING 0, stream empty)."""
    service = launch(workers=1, **ENV)
    tenant = service.tenant("leaver")
    deploy_and_bind(service, tenant, "spin", faults.spin_action(1.5))
    bind(service, tenant, "post-login", ["spin"])
    [worker] = service.workers
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(execute, service, tenant, "post-login", faults.LOGIN_EVENT)

        def held() -> str | None:
            entry = faults.entry_of(own_client, "leaver")
            return faults.pending(own_client).get(entry, ("", 0))[0] if entry else None
        consumer = faults.wait_for(held, 10, "the job to be delivered")
        assert faults.worker_pid(own_client, consumer) == worker.pid
        worker.send_signal(signal.SIGTERM)
        result = reply.result(timeout=30)
    assert result.status == 200, result
    assert (result.body["status"], [e["args"] for e in result.body["effects"]]) == (
        "success", [{"name": "spun", "value": 1.5}])
    assert worker.wait(20) == 0
    assert consumer not in faults.consumers(own_client)
    assert faults.pending_count(own_client) == 0
    assert own_client.xlen(keys.JOBS) == 0
    assert own_client.zscore(keys.WORKERS, consumer) is None
