"""Deploys, versions and rollbacks: /v1/tenants/{tenant}/actions/{id}/deploy and /versions."""
from __future__ import annotations

from aiohttp import web

from runtime.errors import ApiError
from runtime.gateway.auth import MANAGEMENT, tenant_of
from runtime.gateway.http import redis_of, respond
from runtime.store import versions

routes = web.RouteTableDef()
MAX_VERSION_DIGITS = 9


def _number(request: web.Request) -> int:
    raw = request.match_info["number"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_VERSION_DIGITS or int(raw) < 1:
        raise ApiError(404, "version_not_found", f"no version {raw!r}")
    return int(raw)


@routes.post("/v1/tenants/{tenant}/actions/{id}/deploy")
async def deploy(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    version = await versions.deploy(redis_of(request), tenant, request.match_info["id"])
    return respond(request, version, 201)


@routes.get("/v1/tenants/{tenant}/actions/{id}/versions")
async def list_versions(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    docs = await versions.list_versions(redis_of(request), tenant, request.match_info["id"])
    return respond(request, {"versions": docs, "total": len(docs)})


@routes.get("/v1/tenants/{tenant}/actions/{id}/versions/{number}")
async def get_version(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    doc = await versions.get_version(
        redis_of(request), tenant, request.match_info["id"], _number(request)
    )
    return respond(request, doc)


@routes.post("/v1/tenants/{tenant}/actions/{id}/versions/{number}/deploy")
async def rollback(request: web.Request) -> web.Response:
    tenant = await tenant_of(request, MANAGEMENT)
    doc = await versions.rollback(
        redis_of(request), tenant, request.match_info["id"], _number(request)
    )
    return respond(request, doc, 201)
