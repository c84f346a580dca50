"""Overload: a bounded queue (503 + Retry-After at once) and a per-tenant in-flight cap (429)."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from runtime import keys
from runtime.jobs import now_ms
from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.reliability import faults
from tests.reliability.traffic import Outcome, timed
from tests.service import Service

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

MAX_QUEUE = 5
REFUSED_WITHIN_S = 1.0  # "within milliseconds"; generous for a loaded 2-core machine


def tenant_with(service: Service, name: str, code: str) -> dict[str, str]:
    tenant = service.tenant(name)
    deploy_and_bind(service, tenant, name, code)
    bind(service, tenant, "post-login", [name])
    return tenant


def send(service: Service, tenant: dict[str, str]) -> Outcome:
    return timed(lambda: execute(service, tenant, "post-login", faults.LOGIN_EVENT))


def live_workers(client: redis.Redis) -> int:
    return int(client.zcount(keys.WORKERS, now_ms() - 2000, "+inf"))


def test_queue_bound_refuses_at_once(launch: Callable[..., Service], own_client: redis.Redis
                                     ) -> None:
    """Pass: with ACTIONS_MAX_QUEUE_LENGTH=5 and the only slot busy, five requests fill the queue
    and the sixth is answered 503 `queue_full` with Retry-After in under 1 s; once the backlog is
    answered, the next request is admitted again (200)."""
    service = launch(workers=1, ACTIONS_WORKER_SLOTS="1", ACTIONS_MAX_QUEUE_LENGTH=str(MAX_QUEUE),
                     ACTIONS_TENANT_MAX_INFLIGHT="100", ACTIONS_ACTION_TIMEOUT_S="3",
                     ACTIONS_FLOW_DEADLINE_S="3", ACTIONS_KILL_GRACE_S="0.2")
    tenant = tenant_with(service, "spinner", faults.spin_action(2.0))
    with ThreadPoolExecutor(MAX_QUEUE) as pool:
        backlog = [pool.submit(send, service, tenant) for _ in range(MAX_QUEUE)]
        faults.wait_for(lambda: own_client.xlen(keys.JOBS) == MAX_QUEUE, 5, "a full queue",
                        interval_s=0.01)
        refused = send(service, tenant)
        answered = [f.result() for f in backlog]
    print(f"\nrefused in {refused.elapsed_s * 1000:.1f} ms; backlog answered "
          f"{sorted((o.status, round(o.elapsed_s, 2)) for o in answered)}")
    assert (refused.status, refused.code, refused.retry_after) == (503, "queue_full", "1")
    assert refused.elapsed_s < REFUSED_WITHIN_S
    assert [o.error for o in answered] == [None] * MAX_QUEUE
    # The first runs; the rest answer 200 `failed` (deadline passed) or 504, none hang.
    assert {(o.status, o.result) for o in answered} <= {
        (200, "success"), (200, "failed"), (504, None)}
    assert (200, "success") in {(o.status, o.result) for o in answered}
    faults.wait_for(lambda: own_client.xlen(keys.JOBS) == 0, 10, "the backlog to drain")
    again = send(service, tenant)
    assert (again.status, again.result) == (200, "success")


def test_tenant_cap_is_half_the_slots(launch: Callable[..., Service], own_client: redis.Redis
                                      ) -> None:
    """Pass: with 2 workers x 2 slots and the default cap (half the live slots = 2), tenant A's
    third concurrent request is answered 429 `too_many_inflight` with Retry-After in under 1 s
    while tenant B's request still runs (200); A's first two succeed."""
    service = launch(workers=2, ACTIONS_WORKER_SLOTS="2", ACTIONS_ACTION_TIMEOUT_S="3",
                     ACTIONS_FLOW_DEADLINE_S="5")
    a = tenant_with(service, "tenant-a", faults.spin_action(1.5))
    b = tenant_with(service, "tenant-b", faults.LIGHT_ACTION)
    faults.wait_for(lambda: live_workers(own_client) == 2, 10, "both workers' heartbeats")
    with ThreadPoolExecutor(2) as pool:
        first_two = [pool.submit(send, service, a) for _ in range(2)]
        faults.wait_for(lambda: own_client.zcard(keys.inflight("tenant-a")) == 2, 5,
                        "two of A's executions in flight", interval_s=0.01)
        third = send(service, a)
        other = send(service, b)
        assert own_client.zcard(keys.inflight("tenant-a")) == 2  # B ran while A held its cap
        done = [f.result() for f in first_two]
    print(f"\n429 in {third.elapsed_s * 1000:.1f} ms; B answered in {other.elapsed_s * 1000:.1f} ms")
    assert (third.status, third.code, third.retry_after) == (429, "too_many_inflight", "1")
    assert third.elapsed_s < REFUSED_WITHIN_S
    assert (other.status, other.result) == (200, "success")
    assert [(o.status, o.result) for o in done] == [(200, "success")] * 2
