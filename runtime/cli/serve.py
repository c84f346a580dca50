"""`actions-runtime serve`: the whole service in the foreground (embedded Redis, gateway, workers).

A small supervisor: it starts each part as its own process, restarts workers and the embedded
redis-server when they die, and on Ctrl-C / SIGTERM stops everything it started (gateway and
workers drain first).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from runtime.admin_token import ensure_admin_token
from runtime.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from runtime.errors import ConfigError
from runtime.settings import Settings

log = logging.getLogger("actions_runtime.serve")

RESTART_BACKOFF_S = 1.0


def spawn(role: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "runtime.cli", role], env=env,
                            stdin=subprocess.DEVNULL)


def stop_all(procs: list[subprocess.Popen[bytes]], timeout_s: float) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def restart_embedded(embedded: EmbeddedRedis) -> None:
    """Bring a dead embedded redis-server back on the same socket; its append-only file brings
    the data back. Gateway and workers ride the outage out and reconnect on their own."""
    log.error("embedded redis-server exited; restarting it")
    time.sleep(RESTART_BACKOFF_S)
    try:
        embedded.start()
    except EmbeddedRedisError as exc:
        log.error("%s; trying again", exc)


def serve() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"actions-runtime serve: {exc}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    embedded: EmbeddedRedis | None = None
    if settings.redis_url is None:
        embedded = EmbeddedRedis(settings.var_dir)
        try:
            env["ACTIONS_REDIS_URL"] = embedded.start()
        except EmbeddedRedisError as exc:
            print(f"actions-runtime serve: {exc}", file=sys.stderr)
            return 2
    settings, generated = ensure_admin_token(settings)
    env["ACTIONS_ADMIN_TOKEN"] = settings.admin_token or ""
    if generated:
        print(f"admin token (kept in {settings.var_dir / 'admin-token'}): {settings.admin_token}",
              flush=True)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    gateway = spawn("gateway", env)
    workers = [spawn("worker", env) for _ in range(settings.workers)]
    log.info("serving on http://%s:%d with %d workers, redis %s", settings.host, settings.port,
             settings.workers, "embedded at " + env["ACTIONS_REDIS_URL"] if embedded else "external")
    status = 0
    try:
        while not stopping:
            time.sleep(0.2)
            if gateway.poll() is not None:
                log.error("gateway exited with %s; stopping", gateway.returncode)
                status = 1
                break
            if embedded is not None and not embedded.alive and not stopping:
                restart_embedded(embedded)
            for i, proc in enumerate(workers):
                if proc.poll() is not None and not stopping:
                    log.warning("worker pid %d exited with %s; restarting", proc.pid, proc.returncode)
                    time.sleep(RESTART_BACKOFF_S)
                    workers[i] = spawn("worker", env)
    finally:
        log.info("stopping")
        stop_all([gateway, *workers], timeout_s=settings.flow_deadline_s + 5)
        if embedded is not None:
            embedded.stop()
    return status
