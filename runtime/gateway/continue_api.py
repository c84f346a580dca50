"""The continue route: resume a flow that paused on api.redirect.send_user_to, exactly once."""
from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from runtime.errors import ApiError
from runtime.gateway.auth import authenticate
from runtime.gateway.execution_api import (
    new_job,
    requested_budget_s,
    run_job,
    tenant_limits,
    trigger_of,
)
from runtime.gateway.http import read_body, redis_of
from runtime.jobs import CONTINUE, now_ms
from runtime.store import continuations

EXECUTION_ID = re.compile(r"[0-9a-f]{32}")  # runtime.jobs.new_execution_id
FIELDS = frozenset({"continuation", "query", "body"})
MAX_QUERY_PARAMS = 100
QUERY_NAME_LIMIT_CHARS = 256
QUERY_VALUE_LIMIT_CHARS = 8192  # room for a signed session token

# Codes of runtime.gateway.dispatch's refusals: the job was not queued.
ADMISSION_REFUSALS = frozenset({"queue_full", "too_many_inflight", "no_worker",
                                "redis_unavailable"})

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _invalid(code: str, message: str) -> ApiError:
    return ApiError(422, code, message)


def continuation_token(body: dict[str, Any]) -> str:
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise _invalid("unknown_field", f"unknown field(s): {', '.join(unknown)[:200]}; the body "
                       "is {\"continuation\", \"query\", \"body\"}")
    if "continuation" not in body:
        raise _invalid("missing_field", "`continuation` (the token of the redirect answer) "
                       "is required")
    token = body["continuation"]
    if type(token) is not str or not 0 < len(token) <= continuations.TOKEN_LIMIT_CHARS:
        raise _invalid("invalid_continuation", "`continuation` must be the token string of "
                       "the redirect answer")
    return token


def query_params(value: Any) -> dict[str, str | list[str]]:
    """`query` as the returning request carried it: names to a string or a list of strings."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise _invalid("invalid_continue_query", "`query` must be an object of parameter names "
                       "to strings (or lists of strings)")
    if len(value) > MAX_QUERY_PARAMS:
        raise _invalid("invalid_continue_query", f"`query` has over {MAX_QUERY_PARAMS} parameters")
    for name, item in value.items():
        if type(name) is not str or not 0 < len(name) <= QUERY_NAME_LIMIT_CHARS:
            raise _invalid("invalid_continue_query", "query parameter names are 1 to "
                           f"{QUERY_NAME_LIMIT_CHARS} characters")
        items = item if type(item) is list else [item]
        if len(items) > MAX_QUERY_PARAMS or any(
                type(v) is not str or len(v) > QUERY_VALUE_LIMIT_CHARS for v in items):
            raise _invalid("invalid_continue_query", f"query parameter {name[:64]!r} must be a "
                           f"string of at most {QUERY_VALUE_LIMIT_CHARS} characters, or a list "
                           "of such strings")
    return value


def form_body(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise _invalid("invalid_continue_body", "`body` must be an object (the returning "
                       "request's form or JSON body)")
    return value


def resumed_event(event: dict[str, Any], query: dict[str, Any], form: dict[str, Any]) -> dict:
    """The paused event with the returning request's query and body in `event.request`."""
    request = event.get("request")
    return {**event, "request": {**(request if isinstance(request, dict) else {}),
                                 "query": query, "body": form}}


@routes.post("/v1/tenants/{tenant}/executions/{execution_id}/continue")
async def continue_execution(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    await authenticate(request, tenant=tenant, need="execution")
    execution_id = request.match_info["execution_id"]
    body = await read_body(request)
    token = continuation_token(body)
    query, form = query_params(body.get("query")), form_body(body.get("body"))
    current, limits = await tenant_limits(request, tenant)
    budget_s = requested_budget_s(request, limits["flow_deadline_s"])
    if not EXECUTION_ID.fullmatch(execution_id):
        raise continuations.not_found(execution_id)
    # Everything the caller sent is checked before the claim: a refused request keeps the
    # continuation usable.
    redis = redis_of(request)
    state, spent = await continuations.claim(redis, tenant, execution_id, token, now_ms())
    trigger = trigger_of(state["trigger"])
    next_token, next_digest = continuations.new_token()
    job = new_job(tenant, trigger.id, resumed_event(state["event"], query, form), budget_s,
                  limits, kind=CONTINUE, on_error=current.policy(trigger.id),
                  continuation_sha256=next_digest, resume={
                      "position": state["position"], "effects": state["effects"],
                      "records": state["records"], "actions": state["actions"],
                      "spent": spent})
    job.id = execution_id  # the same execution goes on: its record ends final
    try:
        # No Idempotency-Key: the claim above already made this call once-only, and the job
        # keeps the execution's id, so the key of the execute call that paused (an auth server
        # may send one key for a whole login) would replay the paused record instead of running
        # the rest, with the continuation used up. A retried continue gets 409 instead.
        return await run_job(request, job, trigger, limits["max_inflight"], next_token,
                             idempotent=False)
    except ApiError as exc:
        if exc.code in ADMISSION_REFUSALS:  # never queued: the caller may retry the token
            try:
                await continuations.release(redis, tenant, execution_id, token)
            except RedisError:
                log.warning("could not release the continuation of %s", execution_id)
        raise
