"""The private redis-server `serve` starts when no ACTIONS_REDIS_URL is given."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from runtime.errors import RuntimeServiceError


class EmbeddedRedisError(RuntimeServiceError):
    """Raised when the embedded redis-server is missing or does not come up."""


class EmbeddedRedis:
    """redis-server on a unix socket under `var_dir/redis`, append-only file on (data survives)."""

    def __init__(self, var_dir: Path) -> None:
        self.dir = (var_dir / "redis").resolve()
        self.socket = self.dir / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise EmbeddedRedisError(
                "redis-server not found: `make run` installs Debian's redis-server, "
                "or set ACTIONS_REDIS_URL to use an existing Redis")
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", "", "--logfile", str(self.dir / "redis.log"), "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    client.ping()
                    return self.url
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise EmbeddedRedisError(
                            f"redis-server did not start; see {self.dir / 'redis.log'}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
