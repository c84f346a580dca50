"""A tenant's egress allow-list (management token): which hosts its actions may fetch() from."""
from __future__ import annotations

from aiohttp import web

from runtime.gateway.auth import tenant_of
from runtime.gateway.http import read_body, redis_of, respond
from runtime.store import egress

routes = web.RouteTableDef()


@routes.get("/v1/tenants/{tenant}/egress")
async def get_egress(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, "management")
    return respond(request, {"allowed_hosts": await egress.load_allowed_hosts(
        redis_of(request), tenant)})


@routes.put("/v1/tenants/{tenant}/egress")
async def put_egress(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, "management")
    hosts = egress.validate(await read_body(request))
    saved = await egress.save_allowed_hosts(redis_of(request), tenant, hosts)
    return respond(request, {"allowed_hosts": saved})
