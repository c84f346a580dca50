"""The Redis key schema: every key the service reads or writes is built here.

Pattern                              Type    Meaning
ar:tenants                           set     ids of all tenants
ar:tenant:{t}                        hash    tenant doc: id, created_at, management_token_sha256,
                                             execution_token_sha256, settings (msgpack),
                                             egress (msgpack {"allowed_hosts": [...]}, read
                                             by workers at an execution's first fetch)
ar:token:{sha256}                    string  "{kind}:{tenant}" for a token hash; kind is
                                             "management" or "execution"
ar:t:{t}:rev                         string  integer bumped by every write that changes what runs
                                             (deploy, rollback, bindings, secrets, delete,
                                             settings); workers key their flow caches on it
ar:t:{t}:actions                     hash    action id -> msgpack action doc (draft; no secret values)
ar:t:{t}:action_names                hash    action name -> action id (names unique per tenant)
ar:t:{t}:secrets:{action}            hash    secret name -> value (write-only through the API)
ar:t:{t}:versions:{action}           hash    version number -> msgpack version doc (immutable)
ar:t:{t}:bindings:{trigger}          string  msgpack [{"action_id", "display_name"}], in run order
ar:t:{t}:cache:{action}              hash    api.cache key -> msgpack {"value", "expires_at_ms"}
ar:t:{t}:exec:{execution}            string  msgpack execution record, TTL settings.execution_ttl_s
ar:t:{t}:inflight                    zset    execution ids in flight, scored by deadline (epoch ms)
ar:t:{t}:idem:{key}                  string  execution id for an Idempotency-Key, with a TTL
ar:t:{t}:cont:{execution}            hash    continuation of a paused (redirected) execution:
                                             sha256 (of the token handed out, never the token),
                                             expires_at_ms, used ("0"/"1"), spent (sha256s of its
                                             earlier tokens); kept a day past expiry, so a late
                                             continue is told "expired", not "not found"
ar:t:{t}:contstate:{execution}       string  msgpack paused flow: trigger, event, effects,
                                             records, position, actions (ids, names, versions;
                                             no code, no secrets); TTL the continuation TTL
ar:jobs                              stream  jobs; field "job" = msgpack job; group "workers"
ar:results:{gateway}                 stream  results for one gateway process; field "r" = msgpack
ar:workers                           zset    worker id scored by last heartbeat (epoch ms)
ar:worker:{w}                        hash    worker doc: slots, pid, host, started_at
ar:worker_slots                      hash    worker id -> execution slots it offers
ar:dead                              stream  dead-lettered jobs; field "job", field "reason"
ar:delayed                           zset    background jobs waiting for a retry: msgpack job
                                             scored by the epoch ms it becomes due
ar:t:{t}:dead                        list    the tenant's dead letters, newest first (msgpack),
                                             capped; listed by the management API
"""
from __future__ import annotations

PREFIX = "ar:"

TENANTS = f"{PREFIX}tenants"
JOBS = f"{PREFIX}jobs"
JOBS_GROUP = "workers"
WORKERS = f"{PREFIX}workers"
WORKER_SLOTS = f"{PREFIX}worker_slots"
DEAD = f"{PREFIX}dead"
DELAYED = f"{PREFIX}delayed"


def tenant(t: str) -> str:
    return f"{PREFIX}tenant:{t}"


def token(sha256_hex: str) -> str:
    return f"{PREFIX}token:{sha256_hex}"


def _t(t: str, rest: str) -> str:
    return f"{PREFIX}t:{t}:{rest}"


def rev(t: str) -> str:
    return _t(t, "rev")


def actions(t: str) -> str:
    return _t(t, "actions")


def action_names(t: str) -> str:
    return _t(t, "action_names")


def secrets(t: str, action_id: str) -> str:
    return _t(t, f"secrets:{action_id}")


def versions(t: str, action_id: str) -> str:
    return _t(t, f"versions:{action_id}")


def bindings(t: str, trigger_id: str) -> str:
    return _t(t, f"bindings:{trigger_id}")


def cache(t: str, action_id: str) -> str:
    return _t(t, f"cache:{action_id}")


def execution(t: str, execution_id: str) -> str:
    return _t(t, f"exec:{execution_id}")


def continuation(t: str, execution_id: str) -> str:
    return _t(t, f"cont:{execution_id}")


def continuation_state(t: str, execution_id: str) -> str:
    return _t(t, f"contstate:{execution_id}")


def inflight(t: str) -> str:
    return _t(t, "inflight")


def idempotency(t: str, key: str) -> str:
    return _t(t, f"idem:{key}")


def results(gateway_id: str) -> str:
    return f"{PREFIX}results:{gateway_id}"


def worker(worker_id: str) -> str:
    return f"{PREFIX}worker:{worker_id}"


def tenant_dead(t: str) -> str:
    return _t(t, "dead")
