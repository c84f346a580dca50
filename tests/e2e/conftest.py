"""One real service (gateway + 2 workers) shared by the end-to-end tests, on Redis db 1."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import RedisServer, free_port
from tests.service import Service, start_service


@pytest.fixture(scope="session")
def service(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    url = f"redis://127.0.0.1:{redis_server.port}/1"
    svc = start_service(url, tmp_path_factory.mktemp("var"), free_port(), workers=2,
                        extra_env={"ACTIONS_WORKER_SLOTS": "2",
                                   # tests/e2e/test_compromised_child.py plays escaped actions
                                   "ACTIONS_INSECURE_TEST_ESCAPE_HOOK": "1"})
    yield svc
    svc.stop()


@pytest.fixture
def tenant(service: Service) -> dict[str, str]:
    """A fresh tenant per test: tests never see each other's data."""
    return service.tenant("t-" + uuid.uuid4().hex[:12])
