"""A real service for tests: gateway and worker processes against the session's redis-server."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Service:
    """Processes of one service instance; `request` speaks HTTP like curl would."""

    base_url: str
    admin_token: str
    env: dict[str, str]
    gateway: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None,
                timeout_s: float = 30) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None and raw is None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                return Reply(resp.status, _decode(resp.read(), resp.headers), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return Reply(err.code, _decode(err.read(), err.headers), dict(err.headers))

    def tenant(self, tenant_id: str) -> dict[str, str]:
        reply = self.request("POST", "/v1/tenants", {"id": tenant_id}, token=self.admin_token)
        assert reply.status == 201, reply
        return reply.body

    def start_worker(self, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = _spawn("worker", {**self.env, **(extra_env or {})})
        self.workers.append(proc)
        return proc

    def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/readyz", timeout_s=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("service did not become ready")

    def stop(self) -> None:
        procs = [p for p in [self.gateway, *self.workers] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _decode(data: bytes, headers: Any) -> Any:
    if "json" in (headers.get("Content-Type") or ""):
        return json.loads(data)
    return data


def _spawn(role: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "runtime.cli", role], env=env,
                            stdin=subprocess.DEVNULL)


def start_service(redis_url: str, var_dir: Path, port: int, workers: int = 1,
                  extra_env: dict[str, str] | None = None) -> Service:
    admin = "test-admin-token"
    env = {
        **os.environ,
        "ACTIONS_REDIS_URL": redis_url, "ACTIONS_PORT": str(port), "ACTIONS_HOST": "127.0.0.1",
        "ACTIONS_ADMIN_TOKEN": admin, "ACTIONS_VAR_DIR": str(var_dir),
        **(extra_env or {}),
    }
    service = Service(base_url=f"http://127.0.0.1:{port}", admin_token=admin, env=env)
    service.gateway = _spawn("gateway", env)
    for _ in range(workers):
        service.start_worker()
    try:
        service.wait_ready()
    except Exception:
        service.stop()
        raise
    return service
