"""The embedded Redis keeps tenants, actions, versions and bindings across a restart (AOF)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.embedded_redis import EmbeddedRedis
from tests.conftest import free_port
from tests.e2e.test_walkthrough import bind, deploy_and_bind, execute
from tests.reliability import faults
from tests.service import Service, start_service

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

ENV = {"ACTIONS_WORKER_SLOTS": "1", "ACTIONS_FLOW_DEADLINE_S": "5"}
CLAIM = [{"op": "access_token.set_custom_claim", "args": {"name": "light", "value": True},
          "action": "light", "version": 1}]


def run_service(var_dir: Path, port: int) -> tuple[EmbeddedRedis, Service]:
    embedded = EmbeddedRedis(var_dir)
    url = embedded.start()
    try:
        return embedded, start_service(url, var_dir, port, workers=1, extra_env=ENV)
    except Exception:
        embedded.stop()
        raise


@pytest.mark.parametrize("stop_redis", ["terminate", "kill-after-fsync"])
def test_data_survives_an_embedded_redis_restart(tmp_path: Path, stop_redis: str) -> None:
    """Pass: a tenant, its deployed action and its post-login binding written through the API
    before the embedded Redis stops (cleanly, or SIGKILLed 1.5 s after the last write, past the
    AOF's once-a-second fsync) are all there after it starts again under the same var dir: the
    tenant's tokens still work and the flow yields the same effect list."""
    var_dir = tmp_path / "var"
    embedded, service = run_service(var_dir, free_port())
    try:
        tenant = service.tenant("keeper")
        action = deploy_and_bind(service, tenant, "light", faults.LIGHT_ACTION)
        bind(service, tenant, "post-login", ["light"])
        before = execute(service, tenant, "post-login", faults.LOGIN_EVENT)
        assert (before.status, before.body["effects"]) == (200, CLAIM)
        service.stop()
        if stop_redis == "terminate":
            embedded.stop()
        else:
            assert embedded.proc is not None
            time.sleep(1.5)
            embedded.proc.kill()
            embedded.proc.wait(10)
            embedded.proc = None
    finally:
        service.stop()
        embedded.stop()

    embedded, service = run_service(var_dir, free_port())
    try:
        after = execute(service, tenant, "post-login", faults.LOGIN_EVENT)
        assert (after.status, after.body["effects"]) == (200, CLAIM)
        base = f"/v1/tenants/{tenant['id']}/actions/{action['id']}"
        stored = service.request("GET", base, token=tenant["management_token"])
        assert (stored.status, stored.body["name"], stored.body["code"]) == (
            200, "light", faults.LIGHT_ACTION)
        versions = service.request("GET", f"{base}/versions", token=tenant["management_token"])
        assert versions.status == 200
        assert [(v["number"], v["deployed"]) for v in versions.body["versions"]] == [(1, True)]
    finally:
        service.stop()
        embedded.stop()


def redis_child(serve_pid: int) -> int | None:
    """The embedded redis-server `serve` started (its direct child named redis-server)."""
    for pid in faults.child_pids(serve_pid):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "redis-server":
                return pid
        except OSError:
            continue
    return None


def test_serve_restarts_a_dead_embedded_redis(tmp_path: Path) -> None:
    """Pass: `actions-runtime serve` without ACTIONS_REDIS_URL, its embedded redis-server
    SIGKILLed (1.5 s after the last write): serve starts a new one on the same socket within
    10 s, the data written before is there, and executions succeed again without restarting
    serve, its gateway or its worker."""
    port = free_port()
    env = {**os.environ, **ENV, "ACTIONS_PORT": str(port), "ACTIONS_HOST": "127.0.0.1",
           "ACTIONS_ADMIN_TOKEN": "test-admin-token", "ACTIONS_VAR_DIR": str(tmp_path / "var"),
           "ACTIONS_WORKERS": "1"}
    env.pop("ACTIONS_REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "runtime.cli", "serve"], env=env,
                            stdin=subprocess.DEVNULL)
    service = Service(base_url=f"http://127.0.0.1:{port}", admin_token="test-admin-token",
                      env=env)
    try:
        service.wait_ready()
        tenant = service.tenant("keeper")
        deploy_and_bind(service, tenant, "light", faults.LIGHT_ACTION)
        bind(service, tenant, "post-login", ["light"])
        workers_before = faults.child_pids(proc.pid)
        first = faults.wait_for(lambda: redis_child(proc.pid), 5, "the embedded redis-server")
        time.sleep(1.5)  # past the append-only file's once-a-second fsync
        faults.kill(first)
        second = faults.wait_for(lambda: (redis_child(proc.pid) or first) != first and
                                 redis_child(proc.pid), 10, "a new embedded redis-server")

        def executes() -> bool:
            reply = execute(service, tenant, "post-login", faults.LOGIN_EVENT, timeout_s=10)
            return reply.status == 200 and reply.body["effects"] == CLAIM

        faults.wait_for(executes, 10, "an execution to succeed again", interval_s=0.2)
        assert proc.poll() is None
        assert set(faults.child_pids(proc.pid)) == (set(workers_before) - {first}) | {second}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
