"""A job that kills every worker that runs it: dead-lettered after 2 deliveries, others unharmed."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import msgpack
import pytest
import redis

from runtime import keys
from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.reliability import faults
from tests.service import Reply, Service

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

ENV = {"ACTIONS_ACTION_TIMEOUT_S": "5", "ACTIONS_FLOW_DEADLINE_S": "20",
       "ACTIONS_KILL_GRACE_S": "0.5", "ACTIONS_WORKER_SLOTS": "2"}


def light_traffic(service: Service, tenant: dict[str, str], stop: threading.Event) -> list[Reply]:
    replies: list[Reply] = []
    while not stop.wait(0.02) and len(replies) < 1000:
        replies.append(execute(service, tenant, "post-login", faults.LOGIN_EVENT))
    return replies


def test_poison_job_is_dead_lettered_and_others_succeed(
        launch: Callable[..., Service], own_client: redis.Redis) -> None:
    """Pass: the job's worker is SIGKILLed on delivery 1 and again on delivery 2 (replacement
    workers keep coming); the next taker dead-letters it unrun: ar:dead and the tenant's
    dead-letter list hold it with reason 'poison', its caller and its record say failed /
    platform_error, and every request of another tenant made meanwhile succeeds."""
    service = launch(workers=2, **ENV)
    poisoned = service.tenant("poisoned")
    deploy_and_bind(service, poisoned, "spin", faults.spin_action(4))
    bind(service, poisoned, "post-login", ["spin"])
    bystander = service.tenant("bystander")
    deploy_and_bind(service, bystander, "light", faults.LIGHT_ACTION)
    bind(service, bystander, "post-login", ["light"])

    stop = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        traffic = pool.submit(light_traffic, service, bystander, stop)
        reply = pool.submit(execute, service, poisoned, "post-login", faults.LOGIN_EVENT)
        entry = faults.wait_for(lambda: faults.entry_of(own_client, "poisoned"), 10, "the job")
        execution_id = faults.queued_jobs(own_client)[entry]["id"]
        killed: list[str] = []
        for delivery in (1, 2):
            def taken(delivery: int = delivery) -> str | None:
                consumer, times = faults.pending(own_client).get(entry, ("", 0))
                return consumer if times == delivery and consumer not in killed else None
            consumer = faults.wait_for(taken, 15, f"delivery {delivery}")
            faults.kill_worker(service.workers, faults.worker_pid(own_client, consumer))
            killed.append(consumer)
            service.start_worker()
        result = reply.result(timeout=40)
        stop.set()
        others = traffic.result(timeout=40)

    assert result.status == 200, result
    assert (result.body["status"], result.body["error"]["class"]) == ("failed", "platform_error")
    assert "dead-lettered" in result.body["error"]["message"]

    [(_, dead)] = own_client.xrange(keys.DEAD)
    assert dead[b"reason"] == b"poison"
    assert msgpack.unpackb(dead[b"job"], raw=False)["id"] == execution_id
    letters = service.request("GET", "/v1/tenants/poisoned/dead-letters",
                              token=poisoned["management_token"])
    assert letters.status == 200, letters
    [letter] = letters.body["dead_letters"]
    assert (letter["execution_id"], letter["reason"]) == (execution_id, "poison")
    record = service.request("GET", f"/v1/tenants/poisoned/executions/{execution_id}",
                             token=poisoned["execution_token"])
    assert (record.status, record.body["state"], record.body["status"]) == (200, "final", "failed")
    assert record.body["error"]["class"] == "platform_error"

    print(f"bystander requests during the poison job: {len(others)}")
    assert others, "the bystander made no request"
    assert [(r.status, r.body["status"]) for r in others] == [(200, "success")] * len(others)
    none_left = service.request("GET", "/v1/tenants/bystander/dead-letters",
                                token=bystander["management_token"])
    assert none_left.body == {"dead_letters": []}
    assert faults.pending_count(own_client) == 0
    assert own_client.xlen(keys.JOBS) == 0
