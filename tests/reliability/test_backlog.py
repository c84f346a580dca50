"""A backlog that outlived its deadlines while no worker read: dropped unrun, stream left empty."""
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

BACKLOG = 5
COUNTER_ACTION = '''
def on_execute_post_login(event, api):
    seen = api.cache.get("runs")
    runs = (seen["value"] if seen else 0) + 1
    api.cache.set("runs", runs)
    api.id_token.set_custom_claim("runs", runs)
'''


def runs_after(reply_body: dict) -> int:
    """The run count the action saw (cache effects are the worker's, not in the answer)."""
    [effect] = reply_body["effects"]
    assert effect["op"] == "id_token.set_custom_claim"
    return int(effect["args"]["value"])


def test_expired_backlog_is_dropped_unrun(
        launch: Callable[..., Service], own_client: redis.Redis) -> None:
    """Pass: with the only worker dead (SIGKILL; its heartbeat still counts for a few seconds),
    jobs with a 300 ms deadline are queued and answered 504; a worker started afterwards drops
    every one unrun (records: failed / 'deadline passed before the job started'; the action's
    run counter goes 1 -> 2 across the whole episode), leaving the stream empty, nothing pending."""
    service = launch(workers=1, ACTIONS_KILL_GRACE_S="0.2", ACTIONS_TENANT_MAX_INFLIGHT="20")
    tenant = service.tenant("backlog")
    deploy_and_bind(service, tenant, "counter", COUNTER_ACTION)
    bind(service, tenant, "post-login", ["counter"])
    first = execute(service, tenant, "post-login", faults.LOGIN_EVENT)
    assert (first.status, runs_after(first.body)) == (200, 1)

    [worker] = service.workers
    faults.kill_worker(service.workers, worker.pid)
    with ThreadPoolExecutor(BACKLOG) as pool:
        replies = list(pool.map(
            lambda _: execute(service, tenant, "post-login", faults.LOGIN_EVENT,
                              headers={"X-Actions-Deadline-Ms": "300"}), range(BACKLOG)))
    assert [(r.status, r.body["error"]["code"]) for r in replies] == [
        (504, "deadline_exceeded")] * BACKLOG
    backlog = [job["id"] for job in faults.queued_jobs(own_client).values()]
    assert len(backlog) == BACKLOG
    assert faults.pending_count(own_client) == 0

    service.start_worker()
    faults.wait_for(lambda: own_client.xlen(keys.JOBS) == 0, 20, "the backlog to be drained")
    for execution_id in backlog:
        record = service.request("GET", f"/v1/tenants/backlog/executions/{execution_id}",
                                 token=tenant["execution_token"])
        assert record.status == 200, record
        assert (record.body["status"], record.body["error"]["message"], record.body["effects"]) \
            == ("failed", "deadline passed before the job started", [])
    assert faults.pending_count(own_client) == 0

    service.wait_ready()
    last = execute(service, tenant, "post-login", faults.LOGIN_EVENT)
    assert (last.status, runs_after(last.body)) == (200, 2)
