"""Triggers and their bindings: /v1/tenants/{tenant}/triggers[/{trigger_id}/bindings]."""
from __future__ import annotations

from aiohttp import web

from runtime.errors import ApiError
from runtime.gateway.auth import MANAGEMENT, tenant_of
from runtime.gateway.handlers import inputs
from runtime.gateway.http import read_body, redis_of, respond
from runtime.store import bindings
from sandbox.triggers import TRIGGERS

routes = web.RouteTableDef()


def trigger_id_of(request: web.Request) -> str:
    """The path's trigger id; 404 trigger_not_found when it is not in the trigger table."""
    trigger_id = request.match_info["trigger_id"]
    if trigger_id not in TRIGGERS:
        raise ApiError(404, "trigger_not_found", f"no trigger {trigger_id!r}")
    return trigger_id


@routes.get("/v1/tenants/{tenant}/triggers")
async def list_triggers(request: web.Request) -> web.Response:
    await tenant_of(request, MANAGEMENT)
    return respond(request, {"triggers": [t.to_json() for t in TRIGGERS.values()]})


@routes.get("/v1/tenants/{tenant}/triggers/{trigger_id}/bindings")
async def get_bindings(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    found = await bindings.get_bindings(redis_of(request), tenant, trigger_id_of(request))
    return respond(request, {"bindings": found})


@routes.patch("/v1/tenants/{tenant}/triggers/{trigger_id}/bindings")
async def set_bindings(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    trigger_id = trigger_id_of(request)
    refs = inputs.bindings_patch(await read_body(request))
    found = await bindings.set_bindings(redis_of(request), tenant, trigger_id, refs)
    return respond(request, {"bindings": found})
