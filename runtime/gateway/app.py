"""The gateway application factory: routes, error middleware and the Redis client's lifetime."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from runtime.gateway import continue_api
from runtime.gateway.execution_api import setup_execution
from runtime.gateway.handlers import actions, egress, tenants, triggers, versions
from runtime.gateway.handlers import settings as settings_routes
from runtime.gateway.http import REDIS_KEY, SETTINGS_KEY, error_middleware
from runtime.redis_client import connect
from runtime.settings import Settings

__all__ = ["REDIS_KEY", "SETTINGS_KEY", "create_app"]



def create_app(settings: Settings, *, redis: Redis | None = None) -> web.Application:
    """The gateway. A given `redis` is borrowed (the caller closes it); otherwise one is
    made from settings.redis_url on startup and closed on cleanup."""
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    if redis is not None:
        app[REDIS_KEY] = redis
    else:
        async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
            client = connect(settings)
            app[REDIS_KEY] = client
            yield
            await client.aclose()

        app.cleanup_ctx.append(redis_ctx)
    for module in (tenants, actions, versions, triggers, settings_routes, continue_api):
        app.router.add_routes(module.routes)
    app.router.add_routes(egress.routes)
    setup_execution(app)  # last: its cleanup_ctx runs after (and stops before) the Redis one
    return app
