"""`actions-runtime gateway`: the HTTP gateway process."""
from __future__ import annotations

import logging
import sys

from aiohttp import web

from runtime.admin_token import ensure_admin_token
from runtime.errors import ConfigError
from runtime.gateway.app import create_app
from runtime.settings import Settings

log = logging.getLogger("actions_runtime.gateway")


def run_gateway() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
        if settings.redis_url is None:
            raise ConfigError("ACTIONS_REDIS_URL", "", "is required for `actions-runtime gateway`; "
                              "`actions-runtime serve` starts an embedded redis-server")
    except ConfigError as exc:
        print(f"actions-runtime gateway: {exc}", file=sys.stderr)
        return 2
    settings, generated = ensure_admin_token(settings)
    if generated:
        print(f"admin token (kept in {settings.var_dir / 'admin-token'}): {settings.admin_token}",
              flush=True)
    # SIGTERM: stop accepting, let accepted requests finish within their longest deadline.
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                shutdown_timeout=settings.flow_deadline_s + 1, access_log=None,
                print=lambda msg: log.info("%s", msg.strip()))
    return 0
