"""A worker or its sandbox child SIGKILLed mid-job: one answer per caller, nothing left pending."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from runtime import keys
from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.reliability import faults
from tests.service import Service

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

ENV = {"ACTIONS_ACTION_TIMEOUT_S": "3", "ACTIONS_FLOW_DEADLINE_S": "10",
       "ACTIONS_KILL_GRACE_S": "0.5", "ACTIONS_WORKER_SLOTS": "2"}


def spinning_tenant(service: Service, seconds: float) -> dict[str, str]:
    tenant = service.tenant("spinner")
    deploy_and_bind(service, tenant, "spin", faults.spin_action(seconds))
    bind(service, tenant, "post-login", ["spin"])
    return tenant


def running_consumer(client: redis.Redis, tenant: str) -> tuple[bytes, str]:
    """Wait until `tenant`'s job has been delivered; its entry id and the consumer holding it."""
    def probe() -> tuple[bytes, str] | None:
        entry = faults.entry_of(client, tenant)
        held = faults.pending(client).get(entry) if entry else None
        return (entry, held[0]) if held else None
    return faults.wait_for(probe, 10, "the job to be delivered")


def assert_drained(client: redis.Redis) -> None:
    assert faults.pending_count(client) == 0
    assert client.xlen(keys.JOBS) == 0


def test_worker_killed_mid_job_is_rerun_by_another(
        launch: Callable[..., Service], own_client: redis.Redis) -> None:
    """Pass: SIGKILL of the worker running a 1.5 s job -> the other worker reclaims and re-runs
    it within the deadline; the caller gets one 200 success; nothing pending, stream empty."""
    service = launch(workers=2, **ENV)
    tenant = spinning_tenant(service, 1.5)
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(execute, service, tenant, "post-login", faults.LOGIN_EVENT)
        _entry, consumer = running_consumer(own_client, tenant["id"])
        faults.kill_worker(service.workers, faults.worker_pid(own_client, consumer))
        result = reply.result(timeout=30)
    assert result.status == 200, result
    assert result.body["status"] == "success"
    assert [e["args"] for e in result.body["effects"]] == [{"name": "spun", "value": 1.5}]
    assert_drained(own_client)


def test_worker_killed_past_deadline_is_answered_failed(
        launch: Callable[..., Service], own_client: redis.Redis) -> None:
    """Pass: with a 2 s deadline the reclaim (idle 3 s) comes too late to re-run: the caller gets
    one 504, the record says failed / platform_error 'deadline passed before the job started',
    and nothing is left pending or queued."""
    service = launch(workers=2, **ENV)
    tenant = spinning_tenant(service, 1.5)
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(execute, service, tenant, "post-login", faults.LOGIN_EVENT,
                            headers={"X-Actions-Deadline-Ms": "2000"})
        entry, consumer = running_consumer(own_client, tenant["id"])
        execution_id = faults.queued_jobs(own_client)[entry]["id"]
        faults.kill_worker(service.workers, faults.worker_pid(own_client, consumer))
        result = reply.result(timeout=30)
    assert result.status == 504, result
    assert result.body["error"]["code"] == "deadline_exceeded"
    assert execution_id in result.body["error"]["message"]

    def final_record() -> dict | None:
        got = service.request("GET", f"/v1/tenants/{tenant['id']}/executions/{execution_id}",
                              token=tenant["execution_token"])
        return got.body if got.status == 200 and got.body.get("state") == "final" else None
    record = faults.wait_for(final_record, 15, "the reclaimed job's record")
    assert (record["status"], record["error"]["class"], record["error"]["message"]) == (
        "failed", "platform_error", "deadline passed before the job started")
    assert record["effects"] == []
    assert_drained(own_client)


def test_sandbox_child_killed_mid_job_is_rerun_in_a_fresh_child(
        launch: Callable[..., Service], own_client: redis.Redis) -> None:
    """Pass: SIGKILL of the sandbox child running the action -> the action runs again in a
    fresh child (its only effects are in its reply, so nothing happens twice) and the caller
    gets one 200 success; nothing pending, stream empty, workers alive."""
    service = launch(workers=2, **ENV)
    tenant = spinning_tenant(service, 1.5)
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(execute, service, tenant, "post-login", faults.LOGIN_EVENT)
        _entry, consumer = running_consumer(own_client, tenant["id"])
        worker = faults.worker_pid(own_client, consumer)
        child = faults.wait_for(lambda: faults.busy_sandbox_child(worker), 5,
                                "the sandbox child to be busy")
        faults.kill(child)
        result = reply.result(timeout=30)
    assert result.status == 200, result
    assert result.body["status"] == "success"
    [action] = result.body["actions"]
    assert action["status"] == "ok"
    assert [e["args"]["name"] for e in result.body["effects"]] == ["spun"]
    assert_drained(own_client)
    assert all(p.poll() is None for p in service.workers)
