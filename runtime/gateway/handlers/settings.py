"""Tenant settings: limits (admin token) and each trigger's failure policy (management token)."""
from __future__ import annotations

from aiohttp import web

from runtime.errors import ApiError
from runtime.gateway.auth import authenticate_admin, tenant_of
from runtime.gateway.handlers.triggers import trigger_id_of
from runtime.gateway.http import read_body, redis_of, respond, settings_of
from runtime.store import tenant_settings
from runtime.store.tenants import get_tenant

routes = web.RouteTableDef()


def limits_view(request: web.Request, current: tenant_settings.TenantSettings) -> dict:
    return {"id": request.match_info["tenant"], **current.effective(settings_of(request))}


@routes.get("/v1/tenants/{tenant}/limits")
async def get_limits(request: web.Request) -> web.Response:
    authenticate_admin(request)
    tenant = request.match_info["tenant"]
    await tenant_exists(request, tenant)
    return respond(request, limits_view(request, await tenant_settings.load(redis_of(request), tenant)))


@routes.patch("/v1/tenants/{tenant}/limits")
async def patch_limits(request: web.Request) -> web.Response:
    authenticate_admin(request)
    limits = tenant_settings.validate_limits(await read_body(request))
    updated = await tenant_settings.update_limits(
        redis_of(request), request.match_info["tenant"], limits)
    return respond(request, limits_view(request, updated))


async def tenant_exists(request: web.Request, tenant: str) -> None:
    await get_tenant(redis_of(request), tenant)


@routes.get("/v1/tenants/{tenant}/triggers/{trigger_id}/settings")
async def get_trigger_settings(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, "management")
    trigger_id = trigger_id_of(request)
    current = await tenant_settings.load(redis_of(request), tenant)
    return respond(request, {"trigger_id": trigger_id, "on_error": current.policy(trigger_id)})


@routes.patch("/v1/tenants/{tenant}/triggers/{trigger_id}/settings")
async def patch_trigger_settings(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, "management")
    trigger_id = trigger_id_of(request)
    body = await read_body(request)
    if set(body) != {"on_error"}:
        raise ApiError(422, "unknown_field", "the body must be exactly {\"on_error\": ...}")
    updated = await tenant_settings.set_policy(redis_of(request), tenant, trigger_id,
                                               body["on_error"])
    return respond(request, {"trigger_id": trigger_id, "on_error": updated.policy(trigger_id)})
