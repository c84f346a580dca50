"""Execution routes: execute a trigger's flow, test-run a draft, execution records, dead letters."""
from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import msgpack
from aiohttp import web

from runtime import keys
from runtime.errors import ApiError
from runtime.gateway import operations
from runtime.gateway.auth import TOKEN_CACHE_KEY, TokenCache, authenticate
from runtime.gateway.dispatch import Dispatcher
from runtime.gateway.http import REDIS_KEY, SETTINGS_KEY, read_body, redis_of, respond, settings_of
from runtime.gateway.metrics import METRICS_KEY, GatewayMetrics
from runtime.jobs import TEST, Job, encode_result, new_execution_id, now_ms
from runtime.store import continuations
from runtime.store.flows import load_draft
from runtime.store.tenant_settings import SettingsCache, TenantSettings
from sandbox.triggers import TRIGGERS, Trigger

DISPATCHER_KEY: web.AppKey[Dispatcher] = web.AppKey("dispatcher", Dispatcher)
TENANT_SETTINGS_KEY: web.AppKey[SettingsCache] = web.AppKey("tenant_settings", SettingsCache)

DEADLINE_HEADER = "X-Actions-Deadline-Ms"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
PRIVATE_RECORD_FIELDS = frozenset({"tenant", "kind", "state", "finished_at_ms"})
REPLY_MARGIN_S = 0.25  # time for a worker's answer to reach us after its own deadline handling

routes = web.RouteTableDef()


def trigger_of(trigger_id: str) -> Trigger:
    trigger = TRIGGERS.get(trigger_id)
    if trigger is None:
        raise ApiError(404, "trigger_not_found", f"unknown trigger {trigger_id!r}; "
                       f"known: {', '.join(sorted(TRIGGERS))}")
    return trigger


def handler_of(trigger: Trigger, requested: str | None) -> str:
    """The handler to call: the trigger's first unless the caller names another of its own
    (e.g. on_continue_post_login after a redirect)."""
    if requested is None:
        return trigger.handlers[0]
    if requested not in trigger.handlers:
        raise ApiError(400, "invalid_handler", f"{trigger.id} handlers are "
                       f"{', '.join(trigger.handlers)}; got {requested!r}")
    return requested


def requested_budget_s(request: web.Request, maximum_s: float) -> float:
    """The caller's deadline (header or ?timeout_ms=), never longer than `maximum_s`."""
    raw = request.headers.get(DEADLINE_HEADER) or request.query.get("timeout_ms")
    if raw is None:
        return maximum_s
    try:
        value_ms = int(raw)
    except ValueError:
        value_ms = 0
    if value_ms <= 0:
        raise ApiError(400, "invalid_deadline",
                       f"{DEADLINE_HEADER} / timeout_ms must be a positive integer of milliseconds")
    return min(value_ms / 1000, maximum_s)


def wait_s(request: web.Request, job: Job) -> float:
    """How long to wait for `job`'s answer: counted from its own deadline (a slow admission
    does not extend it), plus the time a worker needs to kill and report an overrun."""
    return (job.deadline_ms - now_ms()) / 1000 + settings_of(request).kill_grace_s + REPLY_MARGIN_S


def can_pause(trigger: Trigger) -> bool:
    """Triggers with a continuation handler have api.redirect: their flows may pause."""
    return len(trigger.handlers) > 1


def with_continuation(result: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The answer of a paused flow carries the token that continues it (the worker stored
    only the token's hash)."""
    if "continuation" in result:  # the worker adds the field to paused flows only
        return {**result, "continuation": token}
    return result


async def run_job(request: web.Request, job: Job, trigger: Trigger,
                  max_inflight: int, continuation: str | None = None, *,
                  idempotent: bool = True) -> web.Response:
    """Queue `job`; blocking triggers wait for the result, background ones answer 202 at once.
    `continuation` is the token whose hash `job` carries, for the answer if the flow pauses.
    `idempotent`: honour the request's Idempotency-Key (not for a continue: see there)."""
    settings = settings_of(request)
    dispatcher = request.app[DISPATCHER_KEY]
    metrics = request.app[METRICS_KEY]
    started = time.perf_counter()
    blocking = trigger.blocking or job.kind == TEST
    pending = None if blocking else encode_result(
        {"execution_id": job.id, "trigger": job.trigger, "state": "pending", "status": "pending",
         "tenant": job.tenant, "kind": job.kind})
    try:
        admission = await dispatcher.submit(
            job, tenant_max_inflight=max_inflight, wait=blocking,
            pending_record=pending,
            idempotency_key=idempotency_key(request) if idempotent else None,
            idempotency_ttl_s=settings.idempotency_ttl_s)
    except ApiError as exc:
        metrics.rejected.labels(exc.code).inc()
        raise
    if admission.earlier_execution_id is not None:
        return await replay(request, job, admission.earlier_execution_id, blocking)
    future = admission.future
    if future is None:
        return respond(request, {"execution_id": job.id, "trigger": job.trigger,
                                 "status": "pending"}, status=202)
    metrics.waiting.inc()
    try:
        result = await dispatcher.wait(job, future, wait_s(request, job))
    except ApiError as exc:
        metrics.rejected.labels(exc.code).inc()
        raise
    finally:
        metrics.waiting.dec()
    metrics.observe_result(result, time.perf_counter() - started)
    return respond(request, with_continuation(result, continuation))


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "invalid_idempotency_key",
                       f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters")
    return key


async def replay(request: web.Request, job: Job, execution_id: str,
                 blocking: bool) -> web.Response:
    """Answer a retried request with the earlier execution's result; nothing runs again."""
    if not blocking:
        return respond(request, {"execution_id": execution_id, "trigger": job.trigger,
                                 "status": "pending"}, status=202,
                       headers={"Idempotent-Replay": "true"})
    record = await request.app[DISPATCHER_KEY].wait_record(job.tenant, execution_id,
                                                           wait_s(request, job))
    token = None
    if "continuation" in record and record.get("kind") != TEST:
        # The first answer's token is lost with it: a fresh one replaces it.
        token = await continuations.reissue(redis_of(request), job.tenant, execution_id, now_ms())
    return respond(request, with_continuation(public_record(record), token),
                   headers={"Idempotent-Replay": "true"})


def public_record(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in PRIVATE_RECORD_FIELDS}


async def tenant_limits(request: web.Request, tenant: str) -> tuple[TenantSettings, dict[str, Any]]:
    current = await request.app[TENANT_SETTINGS_KEY].get(tenant)
    return current, current.effective(settings_of(request))


def new_job(tenant: str, trigger_id: str, event: dict[str, Any], budget_s: float,
            limits: dict[str, Any], **extra: Any) -> Job:
    return Job(id=new_execution_id(), tenant=tenant, trigger=trigger_id, event=event,
               deadline_ms=now_ms() + int(budget_s * 1000),
               action_timeout_s=limits["action_timeout_s"], **extra)


@routes.post("/v1/tenants/{tenant}/triggers/{trigger_id}/execute")
async def execute(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    await authenticate(request, tenant=tenant, need="execution")
    trigger = trigger_of(request.match_info["trigger_id"])
    current, limits = await tenant_limits(request, tenant)
    budget_s = requested_budget_s(request, limits["flow_deadline_s"])
    if "handler" in request.query:
        raise ApiError(400, "invalid_handler", "?handler= is gone: continue a redirected "
                       "flow with POST /v1/tenants/{tenant}/executions/{id}/continue")
    event = await read_body(request)
    token, digest = continuations.new_token() if can_pause(trigger) else (None, None)
    job = new_job(tenant, trigger.id, event, budget_s, limits, on_error=current.policy(trigger.id),
                  continuation_sha256=digest)
    return await run_job(request, job, trigger, limits["max_inflight"], token)


@routes.post("/v1/tenants/{tenant}/actions/{id}/test")
async def test_action(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    await authenticate(request, tenant=tenant, need="management")
    action_id = request.match_info["id"]
    draft = await load_draft(redis_of(request), tenant, action_id)
    body = await read_body(request)
    event = body.get("event", {})
    if not isinstance(event, dict):
        raise ApiError(400, "invalid_event", "`event` must be an object")
    supported = [t["id"] for t in draft.get("supported_triggers") or []]
    trigger_id = body.get("trigger_id") or (supported[0] if supported else None)
    if not isinstance(trigger_id, str):
        raise ApiError(400, "invalid_trigger", "`trigger_id` must name one of the action's triggers")
    trigger = trigger_of(trigger_id)
    if supported and trigger.id not in supported:
        raise ApiError(422, "trigger_not_supported",
                       f"action does not support {trigger.id!r}; it supports {supported}")
    _, limits = await tenant_limits(request, tenant)
    budget_s = requested_budget_s(request, limits["flow_deadline_s"])
    requested = body.get("handler")
    if requested is not None and not isinstance(requested, str):
        raise ApiError(400, "invalid_handler", "`handler` must be a string")
    job = new_job(tenant, trigger.id, event, budget_s, limits, kind=TEST, action_id=action_id,
                  handler=handler_of(trigger, requested))
    return await run_job(request, job, trigger, limits["max_inflight"])


@routes.get("/v1/tenants/{tenant}/executions/{execution_id}")
async def get_execution(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    await authenticate(request, tenant=tenant, need="execution")
    execution_id = request.match_info["execution_id"]
    blob = await redis_of(request).get(keys.execution(tenant, execution_id))
    if blob is None:
        raise ApiError(404, "execution_not_found", f"no execution {execution_id!r} "
                       "(records expire after their TTL)")
    record = msgpack.unpackb(blob, raw=False)
    return respond(request, {**public_record(record), "state": record.get("state", "final")})


@routes.get("/v1/tenants/{tenant}/dead-letters")
async def list_dead_letters(request: web.Request) -> web.Response:
    """Background flows that failed every attempt, and jobs that killed their workers."""
    tenant = request.match_info["tenant"]
    await authenticate(request, tenant=tenant, need="management")
    raw = await redis_of(request).lrange(keys.tenant_dead(tenant), 0, -1)
    return respond(request, {"dead_letters": [msgpack.unpackb(item, raw=False) for item in raw]})


async def dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    dispatcher = Dispatcher(app[REDIS_KEY], max_queue_length=settings.max_queue_length,
                            record_ttl_s=settings.execution_ttl_s)
    app[DISPATCHER_KEY] = dispatcher
    app[TENANT_SETTINGS_KEY] = SettingsCache(app[REDIS_KEY])
    await dispatcher.start()
    yield
    await dispatcher.close()


def setup_execution(app: web.Application) -> None:
    """Add the execution side's routes and its result reader to the gateway app."""
    app[METRICS_KEY] = GatewayMetrics()
    app[TOKEN_CACHE_KEY] = TokenCache()
    app.add_routes(routes)
    app.add_routes(operations.routes)
    app.cleanup_ctx.append(dispatcher_ctx)
