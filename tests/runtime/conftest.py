"""Fixtures of the management API tests: a gateway app on the session's redis-server."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from runtime.gateway.app import create_app
from runtime.settings import Settings
from tests.runtime.apiclient import ADMIN_TOKEN, Api, Tenant


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def api(settings: Settings, aredis: aioredis.Redis) -> AsyncIterator[Api]:
    async with TestClient(TestServer(create_app(settings, redis=aredis))) as client:
        yield Api(client)


@pytest.fixture
async def acme(api: Api) -> Tenant:
    return await api.create_tenant("acme")


@pytest.fixture
async def globex(api: Api) -> Tenant:
    return await api.create_tenant("globex")
