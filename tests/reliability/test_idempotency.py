"""Idempotency-Key: a retried request gets the earlier result and the actions run once."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.service import Service

COUNTER = ("def on_execute_post_login(event, api):\n"
           "    seen = api.cache.get('runs')\n"
           "    n = seen['value'] + 1 if seen else 1\n"
           "    api.cache.set('runs', n)\n"
           "    api.id_token.set_custom_claim('runs', n)\n")
SLOW_COUNTER = COUNTER.replace("    api.cache.set", "    import datetime\n"
                               "    t = datetime.datetime.now()\n"
                               "    while (datetime.datetime.now() - t).total_seconds() < 0.5:\n"
                               "        pass\n    api.cache.set")


def runs_claim(reply) -> int:
    return next(e["args"]["value"] for e in reply.body["effects"] if e["op"].startswith("id_token"))


@pytest.mark.reliability
@pytest.mark.timeout(120)
def test_sequential_retry_is_answered_from_the_first_run(launch: Callable[..., Service]) -> None:
    """Pass: same key twice -> same execution id and effects, Idempotent-Replay on the second;
    a request without the key runs again (its counter is 2, not 3)."""
    service = launch(workers=1)
    tenant = service.tenant("idem")
    deploy_and_bind(service, tenant, "runs", COUNTER)
    bind(service, tenant, "post-login", ["runs"])
    key = {"Idempotency-Key": "login-42"}
    first = execute(service, tenant, "post-login", LOGIN_EVENT, headers=key)
    again = execute(service, tenant, "post-login", LOGIN_EVENT, headers=key)
    fresh = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert first.status == again.status == fresh.status == 200
    assert "Idempotent-Replay" not in first.headers
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.body["execution_id"] == first.body["execution_id"]
    assert again.body["effects"] == first.body["effects"]
    assert [runs_claim(r) for r in (first, again, fresh)] == [1, 1, 2]


@pytest.mark.reliability
@pytest.mark.timeout(120)
def test_concurrent_duplicates_run_once(launch: Callable[..., Service]) -> None:
    """Pass: 6 requests with one key at the same time (a retry storm while the first runs)
    -> all 200 with one execution id; the action ran once (the next keyless run counts 2)."""
    service = launch(workers=2)
    tenant = service.tenant("storm")
    deploy_and_bind(service, tenant, "runs", SLOW_COUNTER)
    bind(service, tenant, "post-login", ["runs"])
    key = {"Idempotency-Key": "storm-1"}
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(
            lambda _: execute(service, tenant, "post-login", LOGIN_EVENT, headers=key), range(6)))
    assert [r.status for r in replies] == [200] * 6
    assert len({r.body["execution_id"] for r in replies}) == 1
    assert {runs_claim(r) for r in replies} == {1}
    assert runs_claim(execute(service, tenant, "post-login", LOGIN_EVENT)) == 2
