"""Admin endpoints: create, read and delete tenants."""
from __future__ import annotations

from aiohttp import web

from runtime.gateway.auth import authenticate_admin
from runtime.gateway.handlers import inputs
from runtime.gateway.http import read_body, redis_of, respond
from runtime.store import tenants

routes = web.RouteTableDef()


@routes.post("/v1/tenants")
async def create_tenant(request: web.Request) -> web.Response:
    authenticate_admin(request)
    body = await read_body(request)
    tenant = inputs.tenant_create(body)
    return respond(request, await tenants.create_tenant(redis_of(request), tenant), 201)


@routes.get("/v1/tenants/{tenant}")
async def get_tenant(request: web.Request) -> web.Response:
    authenticate_admin(request)
    tenant = request.match_info["tenant"]
    return respond(request, await tenants.get_tenant(redis_of(request), tenant))


@routes.delete("/v1/tenants/{tenant}")
async def delete_tenant(request: web.Request) -> web.Response:
    authenticate_admin(request)
    await tenants.delete_tenant(redis_of(request), request.match_info["tenant"])
    return web.Response(status=204)
