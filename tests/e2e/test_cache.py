"""api.cache through the whole service: kept across executions, applied by the worker, and
never in the effects answered to the auth server (the answer lists them as cache_operations)."""
from __future__ import annotations

from tests.e2e.test_walkthrough import LOGIN_EVENT, bind, deploy_and_bind, execute
from tests.service import Service

COUNTER = """
def on_execute_post_login(event, api):
    seen = api.cache.get("visits")
    visits = seen["value"] + 1 if seen else 1
    result = api.cache.set("visits", visits, ttl=60_000)
    api.id_token.set_custom_claim("https://app.example.com/visits", visits)
    api.id_token.set_custom_claim("https://app.example.com/expiry-known",
                                  seen is None or seen["expires_at"] > 0)
    api.id_token.set_custom_claim("https://app.example.com/set", result["type"])
"""


def claims(reply_body: dict) -> dict:
    return {e["args"]["name"].rsplit("/", 1)[1]: e["args"]["value"] for e in reply_body["effects"]}


def test_cache_get_and_set_across_executions_without_cache_effects(
        service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "counter", COUNTER)
    bind(service, tenant, "post-login", ["counter"])
    first = execute(service, tenant, "post-login", LOGIN_EVENT)
    second = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert first.status == second.status == 200, (first, second)
    assert claims(first.body) == {"visits": 1, "expiry-known": True, "set": "success"}
    assert claims(second.body) == {"visits": 2, "expiry-known": True, "set": "success"}
    for reply in (first, second):
        assert all(not e["op"].startswith("cache.") for e in reply.body["effects"])
        assert reply.body["cache_operations"] == [
            {"action": "counter", "version": 1, "op": "cache.set", "key": "visits"}]
    record = service.request(
        "GET", f"/v1/tenants/{tenant['id']}/executions/{second.body['execution_id']}",
        token=tenant["execution_token"])
    assert record.body["cache_operations"] == second.body["cache_operations"]
    assert all(not e["op"].startswith("cache.") for e in record.body["effects"])


FILLER = """
def on_execute_post_login(event, api):
    results = [api.cache.set("k%d" % i, i)["type"] for i in range(25)]
    api.id_token.set_custom_claim("https://app.example.com/results", results)
    api.id_token.set_custom_claim("https://app.example.com/k0", api.cache.get("k0")["value"])
    api.id_token.set_custom_claim("https://app.example.com/full", api.cache.set("x", 1))
"""


def test_a_full_cache_answers_error_results_not_failures(service: Service, tenant: dict) -> None:
    deploy_and_bind(service, tenant, "filler", FILLER)
    bind(service, tenant, "post-login", ["filler"])
    reply = execute(service, tenant, "post-login", LOGIN_EVENT)
    assert reply.status == 200 and reply.body["status"] == "success", reply
    got = claims(reply.body)
    assert got["results"] == ["success"] * 20 + ["error"] * 5
    assert got["k0"] == 0
    assert got["full"]["code"] == "too_many_entries"
    assert len(reply.body["cache_operations"]) == 20
