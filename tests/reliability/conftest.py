"""Reliability fixtures: each test owns a private redis-server and the service processes it starts."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import RedisServer, free_port
from tests.service import Service, start_service


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for this test alone (tests here kill, stop and restart things)."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_client(own_redis: RedisServer) -> Iterator[redis.Redis]:
    """A plain client on the test's redis-server, for inspecting streams and groups."""
    client = redis.Redis.from_url(own_redis.url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def launch(own_redis: RedisServer, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """`launch(workers=N, **env)` starts gateway + workers on the test's Redis; all stopped after."""
    services: list[Service] = []

    def _launch(workers: int = 2, **env: str) -> Service:
        service = start_service(own_redis.url, tmp_path / f"var{len(services)}", free_port(),
                                workers=workers, extra_env=env)
        services.append(service)
        return service

    yield _launch
    for service in services:
        service.stop()
