"""Management endpoints for action drafts: /v1/tenants/{tenant}/actions[/{id}]."""
from __future__ import annotations

from aiohttp import web

from runtime.errors import ApiError
from runtime.gateway.auth import MANAGEMENT, tenant_of
from runtime.gateway.handlers import inputs
from runtime.gateway.http import read_body, redis_of, respond
from runtime.store import actions

routes = web.RouteTableDef()
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@routes.post("/v1/tenants/{tenant}/actions")
async def create_action(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    spec = inputs.action_create(await read_body(request))
    return respond(request, await actions.create_action(redis_of(request), tenant, spec), 201)


@routes.get("/v1/tenants/{tenant}/actions")
async def list_actions(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    docs = await actions.list_actions(
        redis_of(request), tenant,
        trigger_id=request.query.get("trigger_id"), name=request.query.get("name"),
    )
    return respond(request, {"actions": docs, "total": len(docs)})


@routes.get("/v1/tenants/{tenant}/actions/{id}")
async def get_action(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    return respond(request, await actions.read_action(redis_of(request), tenant,
                                                      request.match_info["id"]))


@routes.patch("/v1/tenants/{tenant}/actions/{id}")
async def update_action(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    patch = inputs.action_patch(await read_body(request))
    doc = await actions.update_action(redis_of(request), tenant, request.match_info["id"], patch)
    return respond(request, doc)


@routes.delete("/v1/tenants/{tenant}/actions/{id}")
async def delete_action(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    force = BOOLEANS.get(request.query.get("force", "false").lower())
    if force is None:
        raise ApiError(400, "invalid_query", "force must be true or false")
    await actions.delete_action(redis_of(request), tenant, request.match_info["id"], force=force)
    return web.Response(status=204)
