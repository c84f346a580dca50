"""Operations routes: liveness, readiness and Prometheus metrics."""
from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from runtime import keys
from runtime.errors import ApiError
from runtime.gateway.dispatch import HEARTBEAT_WINDOW_MS
from runtime.gateway.http import redis_of, respond
from runtime.gateway.metrics import METRICS_KEY
from runtime.jobs import now_ms

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return respond(request, {"status": "ok"})


async def live_workers(request: web.Request) -> int:
    return int(await redis_of(request).zcount(keys.WORKERS, now_ms() - HEARTBEAT_WINDOW_MS, "+inf"))


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    try:
        workers = await live_workers(request)
    except RedisError:
        raise ApiError(503, "redis_unavailable", "Redis is not reachable",
                       headers={"Retry-After": "1"}) from None
    if workers == 0:
        raise ApiError(503, "no_worker", "no worker heartbeat", headers={"Retry-After": "2"})
    return respond(request, {"status": "ready", "workers": workers})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    gauges = request.app[METRICS_KEY]
    try:
        gauges.workers_alive.set(await live_workers(request))
        gauges.queue_length.set(await redis_of(request).xlen(keys.JOBS))
    except RedisError:
        pass  # the scrape still answers; the gauges keep their last values
    body = generate_latest(gauges.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
